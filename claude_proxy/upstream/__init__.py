"""The provider layer: where requests leave the proxy."""
