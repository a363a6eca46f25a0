// End-to-end check of the gateway with the official OpenAI and Anthropic SDKs: the clients are
// used exactly as an application would, with only the base URL and the key changed.
//
//   GATEWAY_URL=http://127.0.0.1:8081 SLUICE_KEY=sk-... node sdk_e2e.mjs
//
// The upstream behind the gateway is the mock (tests/mock), whose answers are deterministic:
// the text is "Hello from mock" in 3 pieces (3 completion tokens) and the prompt tokens are
// max(1, floor(characters of the prompt's text / 4)). The Anthropic checks run with two
// generations of its SDK: 1.x sends the key as "Authorization: Bearer" with anthropic-version
// 2026-10-21, 0.x as "x-api-key" with 2023-06-01; a gateway must take both. Pointed straight at a mock started with
// --api-key SLUICE_KEY, the script passes too (that checks the mock against the SDKs).
// Prints one line per check; exits 1 when any check failed, 2 on bad usage.

import Anthropic from '@anthropic-ai/sdk';
import AnthropicV0 from 'anthropic-sdk-v0';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const versionOf = (dir) =>
    JSON.parse(readFileSync(new URL(`./node_modules/${dir}/package.json`, import.meta.url))).version;

const baseUrl = (process.env.GATEWAY_URL ?? '').replace(/\/+$/, '');
const key = process.env.SLUICE_KEY ?? '';
if (!baseUrl || !key) {
    console.error('usage: GATEWAY_URL=http://HOST:PORT SLUICE_KEY=sk-... node sdk_e2e.mjs');
    process.exit(2);
}

const REPLY = 'Hello from mock';
const REPLY_TOKENS = 3;
const OPENAI_MODEL = process.env.E2E_OPENAI_MODEL ?? 'gpt-4o-mini';
const EMBEDDING_MODEL = process.env.E2E_EMBEDDING_MODEL ?? 'text-embedding-3-small';
const ANTHROPIC_MODEL = process.env.E2E_ANTHROPIC_MODEL ?? 'claude-haiku-4-5';
const WRONG_KEY = 'sk-e2e-this-key-does-not-exist-0000000000';

// The mock's rule for prompt tokens (tests/mock/README.md).
const promptTokens = (...texts) =>
    Math.max(1, Math.floor(texts.reduce((n, t) => n + t.length, 0) / 4));

const options = { maxRetries: 0, timeout: 30_000 };
const openai = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: key, ...options });
console.log(`openai ${versionOf('openai')}, @anthropic-ai/sdk ${versionOf('@anthropic-ai/sdk')} and ` +
    `${versionOf('anthropic-sdk-v0')}, node ${process.version}, against ${baseUrl}`);

let failures = 0;
async function check(name, fn) {
    const started = Date.now();
    try {
        const detail = await fn();
        console.log(`ok   ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ''}`);
    } catch (e) {
        failures++;
        const status = e?.status ? ` [HTTP ${e.status}]` : '';
        console.log(`FAIL ${name}${status}: ${e?.message ?? e}`);
        if (process.env.E2E_VERBOSE && e?.stack) console.log(e.stack);
    }
}
function expectEqual(actual, expected, what) {
    if (actual !== expected) {
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
}
function expectTrue(condition, what) {
    if (!condition) throw new Error(what);
}

const system = 'You are a test of an API gateway.';
const question = 'Say hello, please.';
const chatMessages = [
    { role: 'system', content: system },
    { role: 'user', content: question },
];
const chatPrompt = promptTokens(system, question);

function expectOpenAiUsage(usage, prompt, what) {
    expectTrue(usage, `${what}: no usage`);
    expectEqual(usage.prompt_tokens, prompt, `${what} usage.prompt_tokens`);
    expectEqual(usage.completion_tokens, REPLY_TOKENS, `${what} usage.completion_tokens`);
    expectEqual(usage.total_tokens, prompt + REPLY_TOKENS, `${what} usage.total_tokens`);
    expectEqual(usage.prompt_tokens_details?.cached_tokens, 0,
        `${what} usage.prompt_tokens_details.cached_tokens`);
    expectEqual(usage.completion_tokens_details?.reasoning_tokens, 0,
        `${what} usage.completion_tokens_details.reasoning_tokens`);
}

// ---- OpenAI -------------------------------------------------------------------------------

await check('openai chat.completions.create', async () => {
    const completion = await openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: chatMessages,
    });
    expectEqual(completion.object, 'chat.completion', 'object');
    expectEqual(completion.choices[0]?.message?.content, REPLY, 'choices[0].message.content');
    expectEqual(completion.choices[0]?.finish_reason, 'stop', 'finish_reason');
    expectOpenAiUsage(completion.usage, chatPrompt, 'chat');
    return `"${completion.choices[0].message.content}", usage ${completion.usage.prompt_tokens}+${completion.usage.completion_tokens}`;
});

await check('openai chat.completions.create stream with include_usage', async () => {
    const stream = await openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: chatMessages,
        stream: true,
        stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(chunk);
        text += chunk.choices[0]?.delta?.content ?? '';
    }
    expectEqual(text, REPLY, 'joined deltas');
    const withUsage = chunks.filter((c) => c.usage);
    expectEqual(withUsage.length, 1, 'chunks carrying usage');
    expectTrue(withUsage[0] === chunks[chunks.length - 1], 'the usage chunk is not the last one');
    expectEqual(withUsage[0].choices.length, 0, 'choices of the usage chunk');
    expectOpenAiUsage(withUsage[0].usage, chatPrompt, 'stream');
    return `${chunks.length} chunks, "${text}", usage ${withUsage[0].usage.prompt_tokens}+${withUsage[0].usage.completion_tokens}`;
});

await check('openai chat.completions.create stream without usage', async () => {
    const stream = await openai.chat.completions.create({
        model: OPENAI_MODEL,
        messages: chatMessages,
        stream: true,
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(chunk);
        text += chunk.choices[0]?.delta?.content ?? '';
    }
    expectEqual(text, REPLY, 'joined deltas');
    expectTrue(!chunks.some((c) => c.usage), 'the client saw a usage it did not ask for');
    expectTrue(!chunks.some((c) => c.choices.length === 0), 'the client saw a chunk without choices');
    expectEqual(chunks[chunks.length - 1].choices[0]?.finish_reason, 'stop', 'last finish_reason');
    return `${chunks.length} chunks, "${text}", no usage chunk`;
});

await check('openai embeddings.create', async () => {
    const inputs = ['The quick brown fox', 'jumps over the lazy dog'];
    // The SDK asks for base64 when no encoding_format is given and decodes it into numbers.
    const result = await openai.embeddings.create({ model: EMBEDDING_MODEL, input: inputs });
    expectEqual(result.data.length, 2, 'data.length');
    expectTrue(Array.isArray(result.data[0].embedding) && result.data[0].embedding.length > 0,
        'data[0].embedding is not a list of numbers');
    expectTrue(result.data[0].embedding.every((x) => Number.isFinite(x)),
        'data[0].embedding has a value that is not a number');
    const prompt = promptTokens(...inputs);
    expectEqual(result.usage?.prompt_tokens, prompt, 'usage.prompt_tokens');
    expectEqual(result.usage?.total_tokens, prompt, 'usage.total_tokens');
    return `${result.data.length} vectors of ${result.data[0].embedding.length}, usage ${prompt}`;
});

await check('openai responses.create', async () => {
    const response = await openai.responses.create({
        model: OPENAI_MODEL,
        instructions: system,
        input: question,
    });
    expectEqual(response.output_text, REPLY, 'output_text');
    expectEqual(response.usage?.input_tokens, chatPrompt, 'usage.input_tokens');
    expectEqual(response.usage?.output_tokens, REPLY_TOKENS, 'usage.output_tokens');
    return `"${response.output_text}", usage ${response.usage.input_tokens}+${response.usage.output_tokens}`;
});

await check('openai responses.create stream', async () => {
    const stream = await openai.responses.create({
        model: OPENAI_MODEL,
        instructions: system,
        input: question,
        stream: true,
    });
    let text = '';
    let completed = null;
    for await (const event of stream) {
        if (event.type === 'response.output_text.delta') text += event.delta;
        if (event.type === 'response.completed') completed = event.response;
    }
    expectEqual(text, REPLY, 'joined deltas');
    expectTrue(completed, 'no response.completed event');
    expectEqual(completed.usage?.input_tokens, chatPrompt, 'response.completed usage.input_tokens');
    expectEqual(completed.usage?.output_tokens, REPLY_TOKENS, 'response.completed usage.output_tokens');
    return `"${text}", usage ${completed.usage.input_tokens}+${completed.usage.output_tokens}`;
});

await check('openai wrong key -> AuthenticationError', async () => {
    const wrong = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: WRONG_KEY, ...options });
    try {
        await wrong.chat.completions.create({ model: OPENAI_MODEL, messages: chatMessages });
    } catch (e) {
        expectTrue(e instanceof OpenAI.AuthenticationError,
            `expected OpenAI.AuthenticationError, got ${e?.constructor?.name}: ${e?.message}`);
        expectEqual(e.status, 401, 'status');
        return `401: ${e.message}`;
    }
    throw new Error('the request with a wrong key succeeded');
});

// ---- rate limits (through the gateway only: the mock alone has none) ----------------------
// SLUICE_LIMITED_KEY holds one request, then refills in 1000 s: the second call is a 429 that
// the SDK surfaces as RateLimitError; with the SDK's default retries it still fails at once,
// because the gateway says x-should-retry: false for a wait that long.
const limitedKey = process.env.SLUICE_LIMITED_KEY ?? '';

async function expectRateLimited(label, ErrorClass, call) {
    const started = Date.now();
    try {
        await call();
    } catch (e) {
        expectTrue(e instanceof ErrorClass,
            `expected ${label}.RateLimitError, got ${e?.constructor?.name}: ${e?.message}`);
        expectEqual(e.status, 429, 'status');
        expectEqual(e.headers?.get?.('x-should-retry') ?? e.headers?.['x-should-retry'], 'false',
            'x-should-retry');
        const waited = Date.now() - started;
        expectTrue(waited < 5000, `the SDK waited ${waited} ms before giving up`);
        return `429 after ${waited} ms: ${e.message}`;
    }
    throw new Error('the request past the limit succeeded');
}

if (limitedKey) {
    await check('openai over the rate limit -> RateLimitError', async () => {
        const limited = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: limitedKey, ...options });
        await limited.chat.completions.create({ model: OPENAI_MODEL, messages: chatMessages });
        return expectRateLimited('OpenAI', OpenAI.RateLimitError, () =>
            limited.chat.completions.create({ model: OPENAI_MODEL, messages: chatMessages }));
    });
    await check('openai default retries honour x-should-retry: false', async () => {
        const retrying = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: limitedKey, timeout: 30_000 });
        return expectRateLimited('OpenAI', OpenAI.RateLimitError, () =>
            retrying.chat.completions.create({ model: OPENAI_MODEL, messages: chatMessages }));
    });
}

// ---- Anthropic ----------------------------------------------------------------------------

const anthropicMessages = [{ role: 'user', content: question }];
const anthropicPrompt = promptTokens(system, question);

function expectAnthropicUsage(usage, what) {
    expectTrue(usage, `${what}: no usage`);
    expectEqual(usage.input_tokens, anthropicPrompt, `${what} usage.input_tokens`);
    expectEqual(usage.output_tokens, REPLY_TOKENS, `${what} usage.output_tokens`);
    expectEqual(usage.cache_creation_input_tokens, 0, `${what} usage.cache_creation_input_tokens`);
    expectEqual(usage.cache_read_input_tokens, 0, `${what} usage.cache_read_input_tokens`);
}

async function anthropicChecks(label, Sdk) {
    const anthropic = new Sdk({ baseURL: baseUrl, apiKey: key, ...options });

    await check(`${label} messages.create`, async () => {
        const message = await anthropic.messages.create({
            model: ANTHROPIC_MODEL,
            max_tokens: 64,
            system,
            messages: anthropicMessages,
        });
        expectEqual(message.type, 'message', 'type');
        expectEqual(message.content[0]?.type, 'text', 'content[0].type');
        expectEqual(message.content[0]?.text, REPLY, 'content[0].text');
        expectEqual(message.stop_reason, 'end_turn', 'stop_reason');
        expectAnthropicUsage(message.usage, 'message');
        return `"${message.content[0].text}", usage ${message.usage.input_tokens}+${message.usage.output_tokens}`;
    });

    await check(`${label} messages.stream`, async () => {
        const stream = anthropic.messages.stream({
            model: ANTHROPIC_MODEL,
            max_tokens: 64,
            system,
            messages: anthropicMessages,
        });
        let text = '';
        let events = 0;
        stream.on('text', (delta) => {
            text += delta;
        });
        stream.on('streamEvent', () => {
            events++;
        });
        const message = await stream.finalMessage();
        expectEqual(text, REPLY, 'joined text');
        expectEqual(message.content[0]?.text, REPLY, 'finalMessage content[0].text');
        expectEqual(message.stop_reason, 'end_turn', 'finalMessage stop_reason');
        expectAnthropicUsage(message.usage, 'finalMessage');
        return `${events} events, "${text}", usage ${message.usage.input_tokens}+${message.usage.output_tokens}`;
    });

    await check(`${label} messages.countTokens`, async () => {
        const count = await anthropic.messages.countTokens({
            model: ANTHROPIC_MODEL,
            system,
            messages: anthropicMessages,
        });
        expectEqual(count.input_tokens, anthropicPrompt, 'input_tokens');
        return `${count.input_tokens} tokens`;
    });

    if (limitedKey) {
        await check(`${label} over the rate limit -> RateLimitError`, async () => {
            const limited = new Sdk({ baseURL: baseUrl, apiKey: limitedKey, ...options });
            return expectRateLimited('Anthropic', Sdk.RateLimitError, () =>
                limited.messages.create({
                    model: ANTHROPIC_MODEL,
                    max_tokens: 64,
                    messages: anthropicMessages,
                }));
        });
    }

    await check(`${label} wrong key -> AuthenticationError`, async () => {
        const wrong = new Sdk({ baseURL: baseUrl, apiKey: WRONG_KEY, ...options });
        try {
            await wrong.messages.create({
                model: ANTHROPIC_MODEL,
                max_tokens: 64,
                messages: anthropicMessages,
            });
        } catch (e) {
            expectTrue(e instanceof Sdk.AuthenticationError,
                `expected Anthropic.AuthenticationError, got ${e?.constructor?.name}: ${e?.message}`);
            expectEqual(e.status, 401, 'status');
            return `401: ${e.message}`;
        }
        throw new Error('the request with a wrong key succeeded');
    });
}

await anthropicChecks(`anthropic ${versionOf('@anthropic-ai/sdk')}`, Anthropic);
await anthropicChecks(`anthropic ${versionOf('anthropic-sdk-v0')}`, AnthropicV0);

console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
