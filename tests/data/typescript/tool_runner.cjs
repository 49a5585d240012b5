// The TypeScript SDK's tool runner at its defaults, through the proxy: two calculator tools,
// one question. Run by tests/helpers/typescript_sdk.py with NODE_PATH at the pinned SDK.
// argv: base URL, "stream" or "json". Prints one JSON line: the final text and every body sent.
const Anthropic = require('@anthropic-ai/sdk').default;
const { betaTool } = require('@anthropic-ai/sdk/helpers/beta/json-schema');

const [baseURL, mode] = process.argv.slice(2);
const sent = [];
const recordingFetch = async (url, init) => {
  sent.push(JSON.parse(init.body));
  return fetch(url, init);
};
const numbers = {
  type: 'object',
  properties: { a: { type: 'integer' }, b: { type: 'integer' } },
  required: ['a', 'b'],
};
const add = betaTool({
  name: 'add',
  description: 'Add two integers.',
  inputSchema: numbers,
  run: ({ a, b }) => String(a + b),
});
const multiply = betaTool({
  name: 'multiply',
  description: 'Multiply two integers.',
  inputSchema: numbers,
  run: ({ a, b }) => String(a * b),
});

async function main() {
  const client = new Anthropic({ baseURL, apiKey: 'client-key', maxRetries: 0, fetch: recordingFetch });
  const runner = client.beta.messages.toolRunner({
    model: 'claude-sonnet-5',
    max_tokens: 1024,
    system: 'You are a calculator.',
    tools: [add, multiply],
    messages: [{ role: 'user', content: 'What is (2 + 3) * 4?' }],
    stream: mode === 'stream',
  });
  const final = await runner.runUntilDone();
  const text = final.content.filter((block) => block.type === 'text').map((block) => block.text);
  process.stdout.write(JSON.stringify({ text, sent }) + '\n');
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + '\n');
  process.exit(1);
});
