// kumo's runtime client for Node.js functions.
//
// It speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API like any custom
// runtime (GET .../invocation/next, POST .../response, .../error,
// /runtime/init/error), and behaves like AWS's Node.js runtime: the handler
// "file.export" is loaded from LAMBDA_TASK_ROOT (CommonJS or ES module, .js,
// .mjs or .cjs), async handlers and callback handlers both work, errors are
// reported as {errorType, errorMessage, trace}, load failures as
// Runtime.ImportModuleError / Runtime.UserCodeSyntaxError /
// Runtime.HandlerNotFound, and console output is written as
// "time\trequest id\tLEVEL\tmessage".
//
// Usage: node bootstrap.js [OPT_DIR]   (OPT_DIR replaces /opt when kumo runs without mount namespaces)
"use strict";

const http = require("http");
const util = require("util");
const path = require("path");
const fs = require("fs");

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API || "127.0.0.1:9001").split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let requestId = "";

function call(method, route, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({
      host, port: Number(port), method, path: "/2018-06-01" + route, agent,
      headers: Object.assign(data ? { "Content-Length": data.length } : {}, headers || {}),
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

// -- logging as AWS's runtime does ------------------------------------------------------------------
function patchConsole() {
  const write = (level) => (...args) => {
    const text = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\t${level}\t${text}\n`);
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

// -- errors -----------------------------------------------------------------------------------------
function errorDoc(err, type) {
  if (err instanceof Error) {
    return {
      errorType: type || err.name || "Error",
      errorMessage: err.message,
      trace: String(err.stack || "").split("\n"),
    };
  }
  return { errorType: type || typeof err, errorMessage: String(err), trace: [] };
}

class Fault extends Error {
  constructor(type, message, cause) {
    super(message);
    this.faultType = type;
    if (cause && cause.stack) this.stack = `${type}: ${message}\n` + String(cause.stack).split("\n").slice(1).join("\n");
    else this.stack = `${type}: ${message}`;
  }
}

function faultDoc(err) {
  if (err instanceof Fault) {
    return { errorType: err.faultType, errorMessage: err.message, trace: String(err.stack).split("\n") };
  }
  return errorDoc(err);
}

function logError(doc, phase) {
  const shown = { errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace };
  process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\tERROR\t${phase || "Invoke Error"} ` +
    `\t${JSON.stringify(shown)}\n`);
}

// -- loading the handler --------------------------------------------------------------------------------
async function loadHandler(taskRoot, spec) {
  const slash = spec.lastIndexOf("/");
  const dot = spec.indexOf(".", slash + 1);
  if (dot < 0) throw new Fault("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const modulePath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1).split(".");
  const base = path.resolve(taskRoot, modulePath);
  let file = null;
  for (const ext of [".js", ".mjs", ".cjs"]) {
    if (fs.existsSync(base + ext)) { file = base + ext; break; }
  }
  if (!file) {
    throw new Fault("Runtime.ImportModuleError",
      `Error: Cannot find module '${path.basename(modulePath)}'\nRequire stack:\n- ${__filename}`);
  }
  let mod;
  try {
    if (file.endsWith(".mjs") || (file.endsWith(".js") && isModulePackage(path.dirname(file)))) {
      mod = await import(require("url").pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (err) {
        if (err && err.code === "ERR_REQUIRE_ESM") mod = await import(require("url").pathToFileURL(file).href);
        else throw err;
      }
    }
  } catch (err) {
    if (err instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`, err);
    if (err && err.code === "MODULE_NOT_FOUND") throw new Fault("Runtime.ImportModuleError", `Error: ${err.message}`, err);
    throw err;
  }
  let fn = mod;
  for (const part of exportPath) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const part of exportPath) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${path.basename(modulePath)}.${exportPath.join(".")} is undefined or not exported`);
  }
  return fn;
}

function isModulePackage(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module"; } catch (e) { return false; }
    }
    if (path.dirname(d) === d) return false;
  }
}

// -- the loop ---------------------------------------------------------------------------------------------
function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  if (headers["lambda-runtime-cognito-identity"]) ctx.identity = JSON.parse(headers["lambda-runtime-cognito-identity"]);
  if (headers["lambda-runtime-client-context"]) ctx.clientContext = JSON.parse(headers["lambda-runtime-client-context"]);
  return ctx;
}

function runHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(value);
    };
    ctx.done = callback;
    ctx.succeed = (value) => callback(null, value);
    ctx.fail = (err) => callback(err || "handled");
    let result;
    try {
      result = handler(event, ctx, callback);
    } catch (err) {
      callback(err);
      return;
    }
    if (result && typeof result.then === "function") {
      result.then((value) => callback(null, value), (err) => callback(err === undefined ? new Error("undefined") : err));
    } else if (handler.length < 3) {
      callback(null, result);
    }
  });
}

async function main() {
  patchConsole();
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  process.chdir(taskRoot);
  let handler;
  try {
    handler = await loadHandler(taskRoot, process.env._HANDLER || "");
  } catch (err) {
    const doc = faultDoc(err);
    logError(doc, "Init Error");
    await call("POST", "/runtime/init/error", JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": doc.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/runtime/invocation/next");
    const headers = next.headers;
    requestId = headers["lambda-runtime-aws-request-id"] || "";
    if (headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
    else delete process.env._X_AMZN_TRACE_ID;
    let result;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
      result = await runHandler(handler, event, context(headers));
    } catch (err) {
      const doc = errorDoc(err);
      logError(doc);
      await call("POST", `/runtime/invocation/${requestId}/error`, JSON.stringify(doc),
        { "Lambda-Runtime-Function-Error-Type": doc.errorType, "Content-Type": "application/json" });
      continue;
    }
    let out;
    try {
      out = JSON.stringify(result === undefined ? null : result);
    } catch (err) {
      const doc = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${err.message}`, trace: [] };
      await call("POST", `/runtime/invocation/${requestId}/error`, JSON.stringify(doc),
        { "Lambda-Runtime-Function-Error-Type": doc.errorType });
      continue;
    }
    await call("POST", `/runtime/invocation/${requestId}/response`, out);
  }
}

process.on("unhandledRejection", (reason) => {
  const doc = errorDoc(reason, "Runtime.UnhandledPromiseRejection");
  logError(doc);
  call("POST", `/runtime/invocation/${requestId}/error`, JSON.stringify(doc),
    { "Lambda-Runtime-Function-Error-Type": doc.errorType }).finally(() => process.exit(128));
});

main().catch((err) => {
  process.stderr.write(`kumo runtime client: ${err && err.message}\n`);
  process.exit(2);
});
