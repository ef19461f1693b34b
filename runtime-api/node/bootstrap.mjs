// fnhost managed Node.js runtime bootstrap (nodejs18.x / nodejs20.x / nodejs22.x).
//
// Started by the host as `<node> /some/path/bootstrap.mjs` with the function code
// directory as cwd.  Speaks the Lambda Runtime API (2018-06-01) on
// AWS_LAMBDA_RUNTIME_API and runs the handler named by _HANDLER, behaving like AWS's
// Node.js runtime (handler loading, context object, callback / async handlers, error
// shapes, console patching).
//
// Self-contained (Node.js standard library only).  It must not depend on where this
// file lives: the host copies it into a build resource folder.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const API_PREFIX = '/2018-06-01';

// Runtime API headers (Node lowercases incoming header names).
const H_REQUEST_ID = 'lambda-runtime-aws-request-id';
const H_DEADLINE_MS = 'lambda-runtime-deadline-ms';
const H_FUNCTION_ARN = 'lambda-runtime-invoked-function-arn';
const H_TRACE_ID = 'lambda-runtime-trace-id';
const H_CLIENT_CONTEXT = 'lambda-runtime-client-context';
const H_COGNITO_IDENTITY = 'lambda-runtime-cognito-identity';
const H_TENANT_ID = 'lambda-runtime-aws-tenant-id';
const H_INVOCATION_ID = 'lambda-runtime-invocation-id';
const OUT_INVOCATION_ID = 'Lambda-Runtime-Invocation-Id';
const OUT_ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';

// Exit codes.  AWS's Node runtime exits with 129 after an uncaught exception (also for
// init failures) and 128 after an unhandled promise rejection; fnhost uses 1 for init
// failures and 128 for both kinds of fatal errors during an invoke.
const EXIT_INIT_ERROR = 1;
const EXIT_UNCAUGHT_EXCEPTION = 128;
const EXIT_UNHANDLED_REJECTION = 128;
const EXIT_RUNTIME_FAILURE = 1;

const USER_AGENT = `fnhost-node-runtime/1 (node/${process.versions.node})`;
const REQUIRE = createRequire(import.meta.url);

// --------------------------------------------------------------------------------------
// Error types (the names AWS's Node runtime reports)

function runtimeError(shortName) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: shortName });
  // Set before any instance exists, so stacks read "Runtime.X: message".
  cls.prototype.name = `Runtime.${shortName}`;
  return cls;
}

const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const NodeJsExit = runtimeError('NodeJsExit');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');

const NODE_JS_EXIT_MESSAGE =
  'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
  'commonly caused by a Promise that was never settled. For more information, see ' +
  'https://nodejs.org/docs/latest/api/process.html#exit-codes';

function unhandledRejectionError(reason, promise) {
  let error;
  try {
    error = new UnhandledPromiseRejection(reason);
  } catch (_) {
    // e.g. a Symbol reason cannot be converted to a message string
    error = new UnhandledPromiseRejection(util.inspect(reason));
  }
  error.reason = reason;
  error.promise = promise;
  return error;
}

// --------------------------------------------------------------------------------------
// Error serialisation

const BUILT_IN_ERROR_PROTOTYPES = new Set(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]
    .concat(typeof AggregateError === 'function' ? [AggregateError] : [])
    .map((cls) => cls.prototype),
);

/**
 * err.name, except that an instance of a user subclass which only inherits `name` from a
 * built-in error (`class MyError extends Error {}`) reports its class name ("MyError").
 */
function errorTypeOf(error) {
  let name;
  try {
    name = error.name;
    let owner = error;
    while (owner && !Object.prototype.hasOwnProperty.call(owner, 'name')) {
      owner = Object.getPrototypeOf(owner);
    }
    if (owner && BUILT_IN_ERROR_PROTOTYPES.has(owner)) {
      const ctor = error.constructor && error.constructor.name;
      if (typeof ctor === 'string' && ctor !== '' && ctor !== name && !/^Object$|^Function$/.test(ctor)) {
        name = ctor;
      }
    }
  } catch (_) {
    // keep what we have (e.g. a Proxy that throws)
  }
  return name;
}

function isErrorLike(value) {
  return (
    value != null &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string' &&
    value.name !== '' &&
    value.message !== '' &&
    value.stack !== ''
  );
}

/** The `{errorType, errorMessage, trace}` body posted to the Runtime API. */
function errorResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: errorTypeOf(error),
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving ' +
        'one or more of its message, name, and stack',
      trace: [],
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

/** Error name, message, code and stack are not enumerable; show them in logged JSON. */
function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign(
    { errorType: errorTypeOf(value), errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

/** "\t{json}": what AWS appends to "Invoke Error" / "Uncaught Exception" log records. */
function formatErrorForLog(value) {
  const error = intoError(value);
  try {
    return '\t' + JSON.stringify(error, (_key, v) => withEnumerableProperties(v));
  } catch (_) {
    return '\t' + JSON.stringify(errorResponse(error));
  }
}

// --------------------------------------------------------------------------------------
// Logging (console patch)

const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

// Request id shown in log records; AWS prints "undefined" before the first invoke.
let currentRequestId;

function writeStdout(text) {
  try {
    // Synchronous for files, pipes and terminals on POSIX.
    process.stdout.write(text);
  } catch (_) {
    // nowhere left to report it
  }
}

function jsonLogReplacer(_key, value) {
  if (value instanceof Error) {
    let errorType = 'UnknownError';
    try {
      errorType = (value.constructor && value.constructor.name) || errorTypeOf(value) || errorType;
    } catch (_) {
      // keep the default
    }
    return Object.assign(
      {
        errorType,
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonRecord(time, level, args) {
  const record = { timestamp: time, level: level.name, requestId: currentRequestId };
  if (args.length === 1) {
    record.message = args[0];
    try {
      const text = JSON.stringify(record, jsonLogReplacer);
      if (text !== undefined) return text;
    } catch (_) {
      // fall back to a formatted string
    }
    record.message = util.format(args[0]);
    return JSON.stringify(record);
  }
  record.message = util.format(...args);
  for (const arg of args) {
    if (arg instanceof Error) {
      record.errorType = (arg.constructor && arg.constructor.name) || 'UnknownError';
      record.errorMessage = arg.message;
      record.stackTrace = typeof arg.stack === 'string' ? arg.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(record);
}

const JSON_LOGS = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
const MIN_LEVEL = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;

/** One log record: `<ISO time>\t<request id>\t<LEVEL>\t<message>` (or a JSON object). */
function logRecord(level, args) {
  if (level.priority < MIN_LEVEL.priority) return;
  const time = new Date().toISOString();
  let line;
  try {
    line = JSON_LOGS
      ? formatJsonRecord(time, level, args)
      : `${time}\t${currentRequestId}\t${level.name}\t${util.format(...args)}`;
  } catch (e) {
    line = `${time}\t${currentRequestId}\t${level.name}\t<unformattable log message: ${e}>`;
  }
  writeStdout(line + '\n');
}

function patchConsole() {
  const make = (level) =>
    function (...args) {
      logRecord(level, args);
    };
  console.trace = make(LEVELS.TRACE);
  console.debug = make(LEVELS.DEBUG);
  console.info = make(LEVELS.INFO);
  console.log = console.info;
  console.warn = make(LEVELS.WARN);
  console.error = make(LEVELS.ERROR);
  console.fatal = make(LEVELS.FATAL);
}

/** Logs an error the way AWS does: `ERROR\t<what> \t{json}`. */
function logError(what, error) {
  if (JSON_LOGS) {
    logRecord(LEVELS.ERROR, [intoError(error)]);
  } else {
    logRecord(LEVELS.ERROR, [what, formatErrorForLog(error)]);
  }
}

/** Diagnostics of the runtime itself (never filtered by the log level). */
function runtimeLog(message) {
  writeStdout(
    `${new Date().toISOString()}\t${currentRequestId}\tERROR\tfnhost-node-runtime: ${message}\n`,
  );
}

// --------------------------------------------------------------------------------------
// Runtime API client

class RuntimeAPIGone extends Error {}

class RuntimeAPIClient {
  constructor(address) {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new Error(`invalid AWS_LAMBDA_RUNTIME_API '${address}'`);
    this.hostname = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = parseInt(address.slice(colon + 1), 10);
    this.address = address;
    // Keep-alive, one connection, no timeout (GET /next blocks until there is an event).
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  async request(method, apiPath, headers, body) {
    try {
      return await this._once(method, apiPath, headers, body);
    } catch (error) {
      // A kept-alive connection the server already closed: try once on a fresh one.
      if (error.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        return await this._once(method, apiPath, headers, body);
      }
      throw error;
    }
  }

  _once(method, apiPath, extraHeaders, body) {
    return new Promise((resolve, reject) => {
      const headers = { 'User-Agent': USER_AGENT, ...extraHeaders };
      if (body !== undefined) headers['Content-Length'] = body.length;
      let settled = false;
      let gotResponse = false;
      const req = http.request(
        {
          hostname: this.hostname,
          port: this.port,
          method,
          path: API_PREFIX + apiPath,
          headers,
          agent: this.agent,
        },
        (res) => {
          gotResponse = true;
          const chunks = [];
          const done = () => {
            if (settled) return;
            settled = true;
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
          };
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', done);
          // The server may answer early (e.g. 413) and drop the connection: keep the answer.
          res.on('error', done);
          res.on('close', done);
        },
      );
      req.on('error', (error) => {
        if (settled || gotResponse) return;
        settled = true;
        error.reusedSocket = req.reusedSocket;
        if (error.code === 'ECONNREFUSED') {
          reject(new RuntimeAPIGone(`connection to ${this.address} refused`));
        } else {
          reject(error);
        }
      });
      req.end(body);
    });
  }

  nextInvocation() {
    return this.request('GET', '/runtime/invocation/next', {});
  }

  postResponse(requestId, body, invocationId) {
    const headers = { 'Content-Type': 'application/json' };
    if (invocationId !== undefined) headers[OUT_INVOCATION_ID] = invocationId;
    return this.request(
      'POST',
      `/runtime/invocation/${encodeURIComponent(requestId)}/response`,
      headers,
      body,
    );
  }

  postError(requestId, error, invocationId) {
    const response = errorResponse(error);
    const headers = {
      'Content-Type': 'application/json',
      [OUT_ERROR_TYPE]: headerSafe(response.errorType),
    };
    if (invocationId !== undefined) headers[OUT_INVOCATION_ID] = invocationId;
    return this.request(
      'POST',
      `/runtime/invocation/${encodeURIComponent(requestId)}/error`,
      headers,
      Buffer.from(JSON.stringify(response)),
    );
  }

  postInitError(error) {
    const response = errorResponse(error);
    return this.request(
      'POST',
      '/runtime/init/error',
      { 'Content-Type': 'application/json', [OUT_ERROR_TYPE]: headerSafe(response.errorType) },
      Buffer.from(JSON.stringify(response)),
    );
  }
}

/** Header values must be Latin-1 without control characters. */
function headerSafe(value) {
  const text = String(value);
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(text) ? text : encodeURIComponent(text);
}

function describeReply(reply) {
  const text = reply.body.toString('utf8').trim();
  return `HTTP ${reply.status}${text ? ' ' + text : ''}`;
}

// --------------------------------------------------------------------------------------
// Loading the handler

/** 'dir/sub/file.a.b' → ['dir/sub/', 'file.a.b'] */
function moduleRootAndHandler(fullHandler) {
  const handler = path.basename(fullHandler);
  return [fullHandler.substring(0, fullHandler.length - handler.length), handler];
}

/** 'file.a.b' → ['file', 'a.b'] */
function splitHandlerString(handler) {
  const match = /^([^.]*)\.(.*)$/.exec(handler);
  if (!match) throw new MalformedHandlerName('Bad handler');
  return [match[1], match[2]];
}

function resolveHandler(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

/** Whether the nearest package.json (not crossing node_modules) says "type": "module". */
function folderIsTypeModule(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const packageJson = path.join(folder, 'package.json');
    if (fs.existsSync(packageJson)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(packageJson, 'utf8'));
        if (pkg) return pkg.type === 'module';
      } catch (e) {
        console.warn(
          `${packageJson} cannot be read, it will be ignored for ES module detection purposes.`,
          e,
        );
        return false;
      }
    }
    const parent = path.dirname(folder);
    if (parent === folder) return false;
    folder = parent;
  }
}

function tryRequire(file) {
  return fs.existsSync(file) ? REQUIRE(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);

  // Extensionless (or a directory with an index file): CommonJS.
  const plain = tryRequire(base);
  if (plain) return plain;

  const typeModule = folderIsTypeModule(path.dirname(base));
  if (!typeModule) {
    const cjs = tryRequire(base + '.js');
    if (cjs) return cjs;
  }
  const loaded =
    (typeModule && (await tryImport(base + '.js'))) ||
    (await tryImport(base + '.mjs')) ||
    tryRequire(base + '.cjs');
  if (loaded) return loaded;

  // Fall back to Node's own resolution (node_modules, NODE_PATH), relative to the task root.
  const resolved = REQUIRE.resolve(moduleName, { paths: [appRoot, moduleRoot] });
  return REQUIRE(resolved);
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying ` +
        'root directories in handler names.',
    );
  }
  const [moduleRoot, moduleAndHandler] = moduleRootAndHandler(fullHandler);
  const [moduleName, handlerPath] = splitHandlerString(moduleAndHandler);

  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }

  const handler = resolveHandler(app, handlerPath);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

function isAsyncFunction(fn) {
  try {
    return fn.constructor && fn.constructor.name === 'AsyncFunction';
  } catch (_) {
    return false;
  }
}

function isPromise(value) {
  return value && typeof value.then === 'function';
}

// --------------------------------------------------------------------------------------
// Process-wide state and fatal errors

let client;
let phase = 'init'; // 'init' | 'invoke'
// The invoke in progress: { requestId, invocationId, answered } or null.
let currentInvoke = null;
// The response/error POST in flight, if any: a fatal error waits for it before exiting.
let inflightDelivery = null;
let dying = false;

// One 'beforeExit' listener; what it does depends on the state of the current invoke.
let beforeExitHook = () => {};
process.on('beforeExit', () => beforeExitHook());

function exitAfter(promise, code) {
  Promise.resolve(promise).then(
    () => process.exit(code),
    (e) => {
      runtimeLog(`could not report the error: ${e && e.message ? e.message : e}`);
      process.exit(code);
    },
  );
}

async function reportFatal(error, code) {
  if (dying) return;
  dying = true;
  beforeExitHook = () => {};
  if (phase === 'init') {
    await postInitError(error);
    process.exit(EXIT_INIT_ERROR);
  }
  const invoke = currentInvoke;
  if (invoke && !invoke.answered) {
    invoke.answered = true;
    exitAfter(deliverError(invoke, error), code);
  } else if (inflightDelivery) {
    // The invoke already answered (e.g. a timer threw right after the handler returned):
    // let that answer arrive, then go.
    exitAfter(inflightDelivery, code);
  } else {
    process.exit(code);
  }
}

process.on('uncaughtException', (error) => {
  logError('Uncaught Exception', error);
  reportFatal(error, EXIT_UNCAUGHT_EXCEPTION);
});

process.on('unhandledRejection', (reason, promise) => {
  const error = unhandledRejectionError(reason, promise);
  logError('Unhandled Promise Rejection', error);
  reportFatal(error, EXIT_UNHANDLED_REJECTION);
});

async function postInitError(error) {
  if (!client) return;
  try {
    const reply = await client.postInitError(error);
    if (reply.status < 200 || reply.status > 299) {
      runtimeLog(`Runtime API rejected the init error: ${describeReply(reply)}`);
    }
  } catch (e) {
    runtimeLog(`could not report the init error: ${e && e.message ? e.message : e}`);
  }
}

async function deliverError(invoke, error) {
  const reply = await client.postError(invoke.requestId, error, invoke.invocationId);
  if (reply.status < 200 || reply.status > 299) {
    runtimeLog(
      `Runtime API rejected the error for request ${invoke.requestId}: ${describeReply(reply)}`,
    );
  }
}

async function deliverResponse(invoke, body) {
  const reply = await client.postResponse(invoke.requestId, body, invoke.invocationId);
  if (reply.status < 200 || reply.status > 299) {
    runtimeLog(
      `Runtime API rejected the response for request ${invoke.requestId}: ${describeReply(reply)}`,
    );
  }
}

// --------------------------------------------------------------------------------------
// One invocation

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function singleHeader(headers, name) {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Runs the handler for one event.  Resolves once the response or error has been posted
 * (successfully or not); the caller then asks for the next event.
 */
function runInvocation(handler, handlerIsAsync, next) {
  return new Promise((resolveInvocation) => {
    const headers = next.headers;
    const requestId = singleHeader(headers, H_REQUEST_ID) || '';
    const invoke = {
      requestId,
      invocationId: singleHeader(headers, H_INVOCATION_ID),
      answered: false,
    };
    currentInvoke = invoke;
    currentRequestId = requestId;

    // The 'beforeExit' hook belongs to the current invoke only: a late callback from an
    // earlier invoke must not touch it.
    const setHook = (fn) => {
      if (currentInvoke === invoke && !invoke.answered) beforeExitHook = fn;
    };
    const clearHook = () => setHook(() => {});

    const settle = (delivery) => {
      const settled = Promise.resolve(delivery)
        .catch((e) => {
          if (e instanceof RuntimeAPIGone) {
            runtimeLog(`Runtime API is gone (${e.message}); exiting`);
            process.exit(EXIT_RUNTIME_FAILURE);
          }
          runtimeLog(
            `failed to deliver the result of request ${requestId}: ${e && e.message ? e.message : e}`,
          );
        })
        .then(() => {
          if (inflightDelivery === settled) inflightDelivery = null;
          if (currentInvoke === invoke) currentInvoke = null;
          if (!dying) resolveInvocation();
        });
      inflightDelivery = settled;
    };

    const postError = (error) => {
      if (invoke.answered || dying) return;
      clearHook();
      invoke.answered = true;
      logError('Invoke Error', error);
      settle(deliverError(invoke, error));
    };

    const complete = (result) => {
      if (dying) return;
      if (invoke.answered) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (_) {
        postError(new Error('Unable to stringify response body'));
        return;
      }
      clearHook();
      invoke.answered = true;
      settle(deliverResponse(invoke, Buffer.from(body === undefined ? 'null' : body, 'utf8')));
    };

    let waitForEmptyEventLoop = true;

    const callback = (err, result) => {
      clearHook();
      if (err !== undefined && err !== null) {
        postError(err);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        // Answer once the event loop has drained (what AWS does for callback handlers).
        setHook(() => {
          clearHook();
          setImmediate(() => complete(result));
        });
      }
    };
    const done = (err, result) => {
      clearHook();
      if (err !== undefined && err !== null) {
        postError(err);
      } else {
        complete(result);
      }
    };
    const succeed = (result) => done(null, result);
    const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

    // Only the first of callback / done / succeed / fail / the returned promise counts.
    let finished = false;
    const firstCallOnly =
      (fn) =>
      (...args) => {
        if (finished) return;
        fn(...args);
        finished = true;
      };

    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: firstCallOnly(succeed),
      fail: firstCallOnly(fail),
      done: firstCallOnly(done),
    };
    const wrappedCallback = firstCallOnly(callback);

    // If the event loop drains and nothing answered: an async handler whose promise never
    // settled is an error; any other handler answers null (as AWS does).
    setHook(() => {
      clearHook();
      if (invoke.answered) return;
      if (handlerIsAsync) {
        postError(new NodeJsExit(NODE_JS_EXIT_MESSAGE));
      } else {
        complete(null);
      }
    });

    try {
      const traceId = singleHeader(headers, H_TRACE_ID);
      if (traceId) {
        process.env._X_AMZN_TRACE_ID = traceId;
      } else {
        delete process.env._X_AMZN_TRACE_ID;
      }
      const event = JSON.parse(next.body.toString('utf8'));
      const deadline = Number(singleHeader(headers, H_DEADLINE_MS));
      Object.assign(context, {
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
        clientContext: parseJsonHeader(singleHeader(headers, H_CLIENT_CONTEXT), 'ClientContext'),
        identity: parseJsonHeader(singleHeader(headers, H_COGNITO_IDENTITY), 'CognitoIdentity'),
        invokedFunctionArn: singleHeader(headers, H_FUNCTION_ARN),
        awsRequestId: requestId,
        tenantId: singleHeader(headers, H_TENANT_ID),
        getRemainingTimeInMillis() {
          return deadline - Date.now();
        },
      });

      const result = handler(event, context, wrappedCallback);
      if (isPromise(result)) {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      wrappedCallback(err);
    }
  });
}

// --------------------------------------------------------------------------------------
// Main

async function main() {
  patchConsole();

  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    runtimeLog('AWS_LAMBDA_RUNTIME_API is not set');
    process.exit(EXIT_RUNTIME_FAILURE);
  }
  client = new RuntimeAPIClient(address);

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerName = process.env._HANDLER ?? process.argv[2] ?? '';

  // An ES module whose top-level await never settles leaves nothing to wait for.
  beforeExitHook = () => {
    beforeExitHook = () => {};
    const error = new NodeJsExit(NODE_JS_EXIT_MESSAGE);
    logError('Uncaught Exception', error);
    reportFatal(error, EXIT_INIT_ERROR);
  };

  let handler;
  try {
    handler = await loadHandler(appRoot, handlerName);
  } catch (error) {
    beforeExitHook = () => {};
    logError('Uncaught Exception', error);
    await reportFatal(error, EXIT_INIT_ERROR);
    return;
  }
  beforeExitHook = () => {};
  if (dying) return;
  const handlerIsAsync = isAsyncFunction(handler);
  phase = 'invoke';

  for (;;) {
    let next;
    try {
      next = await client.nextInvocation();
    } catch (e) {
      if (dying) return;
      if (e instanceof RuntimeAPIGone) {
        runtimeLog(`Runtime API is gone (${e.message}); exiting`);
      } else {
        runtimeLog(`failed to get the next invocation: ${e && e.message ? e.message : e}; exiting`);
      }
      process.exit(EXIT_RUNTIME_FAILURE);
    }
    if (dying) return;
    if (next.status !== 200) {
      runtimeLog(`failed to get the next invocation: ${describeReply(next)}; exiting`);
      process.exit(EXIT_RUNTIME_FAILURE);
    }
    await runInvocation(handler, handlerIsAsync, next);
    if (dying) return;
  }
}

main().catch((e) => {
  runtimeLog(`internal error: ${e && e.stack ? e.stack : e}`);
  process.exit(EXIT_RUNTIME_FAILURE);
});
