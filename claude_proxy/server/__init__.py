"""The aiohttp server: the app factory, its middleware, the endpoints and the stream writer."""
