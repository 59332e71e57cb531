// @fal-ai/client, unmodified, against falstudio's local server: its hosts rewritten by requestMiddleware
// (protocol notes §6.2). Usage: node fal_js_compat.js <server url> <key> <busy server url> <busy key>
const { createFalClient, ApiError } = require("@fal-ai/client");

function client(base, key) {
  return createFalClient({
    credentials: key,
    suppressLocalCredentialsWarning: true,
    requestMiddleware: async (request) => ({
      ...request,
      url: request.url.replace("https://queue.fal.run", base).replace("https://fal.run", base + "/run"),
    }),
  });
}

const ENDPOINT = "fal-ai/gpt-image-1-mini";
const INPUT = { prompt: "a fox", quality: "low" };

async function main() {
  const [base, key, busyBase, busyKey] = process.argv.slice(2);
  const fal = client(base, key);
  const report = {};
  const polled = await fal.subscribe(ENDPOINT, {
    input: INPUT, logs: true, hint: "runner-1", priority: "low", mode: "polling", pollInterval: 50,
  });
  report.polled = { requestId: polled.requestId, images: polled.data.images.length };
  const streamed = await fal.subscribe(ENDPOINT, { input: INPUT, mode: "streaming" });
  report.streamed = { images: streamed.data.images.length };
  const ran = await fal.run(ENDPOINT, { input: INPUT });
  report.run = { images: ran.data.images.length, width: ran.data.images[0].width };
  const busy = client(busyBase, busyKey);
  const late = await busy.queue.submit(ENDPOINT, { input: INPUT, startTimeout: 1.5 });
  for (;;) {
    const status = await busy.queue.status(ENDPOINT, { requestId: late.request_id });
    if (status.status === "COMPLETED") break;
    await new Promise((done) => setTimeout(done, 50));
  }
  try {
    await busy.queue.result(ENDPOINT, { requestId: late.request_id });
    report.timeout = "no error";
  } catch (error) {
    report.timeout = { apiError: error instanceof ApiError, status: error.status, userTimeout: error.isUserTimeout };
  }
  console.log(JSON.stringify(report));
}

main().catch((error) => {
  console.error(String(error), error.status, JSON.stringify(error.body));
  process.exit(1);
});
