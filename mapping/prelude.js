// The mapping sandbox's prelude, run once in each new V8 context (mapping/sandbox_process.py). It removes what a
// mapping must not reach, freezes every object a script can reach except the global object itself (whose additions
// are swept after each run), and installs the runner that runs one script over a request's events, one run each.
(() => {
  'use strict';
  const G = globalThis;
  const {
    apply: reflectApply, defineProperty, deleteProperty, getOwnPropertyDescriptor, getPrototypeOf, isExtensible,
    ownKeys, setPrototypeOf,
  } = Reflect;
  const { defineProperty: objectDefineProperty, freeze } = Object;
  const FunctionConstructor = Function;
  const ErrorConstructor = Error;
  const TypeErrorConstructor = TypeError;
  const PromiseConstructor = Promise;
  const StringConstructor = String;
  const { parse: jsonParse, stringify: jsonStringify } = JSON;
  const dateNow = Date.now;
  const mathMin = Math.min;

  // mini-racer's timers would fire outside any run and its time limit; `var` bindings cannot be deleted, and its
  // top-level class is a script-scope binding (not a global property) that the sweep resets below.
  for (const name of ['setTimeout', 'clearTimeout', '__timer_manager']) G[name] = undefined;
  __TimerManager = undefined;
  // Binary buffers live outside the V8 heap (and its limit); shared memory can block; finalizers run between runs.
  for (const name of [
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Atomics', 'WebAssembly', 'FinalizationRegistry',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  ]) delete G[name];
  // RegExp.$1, RegExp.lastMatch and friends remember the previous run's last match.
  for (const key of ownKeys(RegExp)) {
    if (typeof key === 'string' && getOwnPropertyDescriptor(RegExp, key).get) delete RegExp[key];
  }

  let logs = [];
  let logChars = 0;
  let logLimit = 0;
  let logsTruncated = false;
  const describe = (value) => {
    try {
      if (typeof value === 'string') return value;
      if (value === undefined) return 'undefined';
      if (typeof value === 'function') return `[Function${value.name ? ': ' + value.name : ''}]`;
      if (typeof value === 'bigint') return `${value}n`;
      if (typeof value === 'symbol') return StringConstructor(value);
      if (value instanceof ErrorConstructor) return `${value.name}: ${value.message}`;
      const json = jsonStringify(value);
      if (json !== undefined) return json;
    } catch {
      // Fall through: circular objects, throwing getters and BigInts inside objects still get a description.
    }
    try {
      return StringConstructor(value);
    } catch {
      return '[object]';
    }
  };
  const log = (...args) => {
    if (logsTruncated) return;
    let line = '';
    for (let i = 0; i < args.length; i++) line += (i ? ' ' : '') + describe(args[i]);
    if (logChars + line.length + 1 > logLimit) {
      logsTruncated = true;
      logs.push('[further console output dropped]');
      return;
    }
    logChars += line.length + 1;
    logs.push(line);
  };
  G.console = { log, info: log, warn: log, error: log, debug: log, trace: log };

  // Base64 as browsers have it (Latin-1 text; UTF-8 text goes through unescape(encodeURIComponent(text)) first):
  // AWS JSON APIs take binary fields (Kinesis and Firehose records' Data) as base64, and there are no buffers here.
  const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const BASE64_VALUES = new Map();
  const BASE64_PAIRS = [];  // two base64 digits per 12 bits, so a 200 KB event encodes well within the time limit
  for (let i = 0; i < 64; i++) {
    BASE64_VALUES.set(BASE64[i], i);
    for (let j = 0; j < 64; j++) BASE64_PAIRS.push(BASE64[i] + BASE64[j]);
  }
  G.btoa = function btoa(data) {
    const text = StringConstructor(data);
    if (/[^\u0000-\u00ff]/.test(text)) {
      throw new ErrorConstructor(
        'btoa takes Latin-1 text; encode other text as UTF-8 first: btoa(unescape(encodeURIComponent(text)))');
    }
    const whole = text.length - (text.length % 3);
    let out = '';
    for (let i = 0; i < whole; i += 3) {
      const bits = (text.charCodeAt(i) << 16) | (text.charCodeAt(i + 1) << 8) | text.charCodeAt(i + 2);
      out += BASE64_PAIRS[bits >> 12] + BASE64_PAIRS[bits & 4095];
    }
    if (whole + 1 === text.length) {
      const bits = text.charCodeAt(whole) << 16;
      out += BASE64_PAIRS[bits >> 12] + '==';
    } else if (whole + 2 === text.length) {
      const bits = (text.charCodeAt(whole) << 16) | (text.charCodeAt(whole + 1) << 8);
      out += BASE64_PAIRS[bits >> 12] + BASE64[(bits >> 6) & 63] + '=';
    }
    return out;
  };
  G.atob = function atob(data) {
    let text = StringConstructor(data).replace(/[\t\n\f\r ]/g, '');
    if (text.length % 4 === 0) text = text.replace(/==?$/, '');
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
      throw new ErrorConstructor('atob: the string is not valid base64');
    }
    const out = [];
    for (let i = 0; i < text.length; i += 4) {
      const n = mathMin(4, text.length - i);
      let bits = 0;
      for (let j = 0; j < 4; j++) bits = (bits << 6) | (j < n ? BASE64_VALUES.get(text[i + j]) : 0);
      out.push(StringConstructor.fromCharCode(bits >> 16));
      if (n > 2) out.push(StringConstructor.fromCharCode((bits >> 8) & 255));
      if (n > 3) out.push(StringConstructor.fromCharCode(bits & 255));
    }
    return out.join('');
  };

  // A frozen built-in data property makes `obj.name = ...` throw on objects inheriting it (the "override mistake");
  // turning the common ones into accessors lets such assignments create an own property as usual. The values their
  // getters return are no longer reachable as properties, so the freezing below is told of them.
  const overridden = [];
  const allowOverride = (proto, key) => {
    const descriptor = getOwnPropertyDescriptor(proto, key);
    if (!descriptor || !('value' in descriptor)) return;
    const value = descriptor.value;
    overridden.push(value);
    defineProperty(proto, key, {
      get() {
        return value;
      },
      set(newValue) {
        if (this === proto) throw new TypeErrorConstructor(`Cannot assign to read-only built-in property '${key}'`);
        objectDefineProperty(this, key, { value: newValue, writable: true, enumerable: true, configurable: true });
      },
      enumerable: descriptor.enumerable,
      configurable: false,
    });
  };
  for (const key of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) allowOverride(Object.prototype, key);
  for (const E of [
    Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, SuppressedError,
  ]) {
    for (const key of ['constructor', 'name', 'message']) allowOverride(E.prototype, key);
  }

  let busy = false;
  let seq = -1;
  let phase = 'idle';
  let status = '';
  let message = '';
  let outputJson = '';
  let startedClean = true;
  const NOT_JSON = {};
  let notJsonReason = '';
  const replacer = (key, value) => {
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint') {
      notJsonReason = key === '' ? `the script returned a ${type}, which JSON cannot hold`
        : `the output holds a ${type} at key "${key}", which JSON cannot hold`;
      throw NOT_JSON;
    }
    return value;
  };
  const serialise = (output, maxChars) => {
    try {
      if (output === undefined || output === null) {
        status = 'skipped';
        return;
      }
      if (output instanceof PromiseConstructor) {
        status = 'not_json';
        message = 'the script returned a Promise; mappings run synchronously, so return the value itself';
        return;
      }
      const json = jsonStringify(output, replacer);
      if (json === undefined) {
        status = 'not_json';
        message = `the script returned a ${typeof output}, which JSON cannot hold`;
      } else if (json.length > maxChars) {
        status = 'too_large';
      } else {
        status = 'ok';
        outputJson = json;
      }
    } catch (error) {
      status = 'not_json';
      message = error === NOT_JSON ? notJsonReason : `the output could not be turned into JSON: ${describe(error)}`;
    }
  };
  const compile = (script) => FunctionConstructor('event', `'use strict';${script}\n//# sourceURL=mapping.js`);

  let clean = true;
  const report = (n) => {
    clean = sweep() && startedClean;
    const header = jsonStringify({ seq: n === seq ? seq : -1, phase, status, message, logs, clean });
    const body = outputJson;
    logs = [];
    outputJson = '';
    return header + '\n' + body;
  };
  // Math.random's generator (xorshift128+) is reseeded from the parent's entropy before each run, so no run can
  // learn or steer what a later run of any environment draws.
  let r0 = 1;
  let r1 = 2;
  const reseed = (seed, n) => {
    r0 = (seed ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0 || 1;
    r1 = (Math.imul(seed, 0x85ebca6b) ^ Math.imul(n + 7, 0xc2b2ae35)) >>> 0 || 2;
  };
  defineProperty(Math, 'random', {
    value: function random() {
      let x = r0;
      const y = r1;
      r0 = y;
      x ^= x << 23;
      x ^= x >>> 17;
      x ^= y ^ (y >>> 26);
      r1 = x >>> 0;
      return ((r0 + r1) >>> 0) / 4294967296;
    },
    writable: true,
    configurable: true,
  });

  const runOne = (n, fn, eventJson, maxOutputChars, maxLogChars, limitMs, seed) => {
    seq = n;
    phase = 'event';
    status = '';
    message = '';
    outputJson = '';
    logs = [];
    logChars = 0;
    logLimit = maxLogChars;
    logsTruncated = false;
    startedClean = sweep();
    reseed(seed, n);
    const event = jsonParse(eventJson);
    phase = 'run';
    const started = dateNow();
    // No catch: an uncaught exception keeps V8's note of the line it was thrown from.
    const output = reflectApply(fn, undefined, [event]);
    if (dateNow() - started > limitMs) {
      // It returned, but later than its limit: V8's deadline covers a whole slice, this one covers the run.
      status = 'timeout';
      phase = 'done';
      return;
    }
    phase = 'output';
    serialise(output, maxOutputChars);
    phase = 'done';
  };

  // The reports of the current call's runs not yet taken. Every entry point wants the token the parent process
  // gave at start (seal): a script can name the runner, but not call it.
  let reports = [];
  let token = null;
  const SEPARATOR = '\u0000';
  const takeReports = () => {
    const text = reports.join(SEPARATOR);
    reports = [];
    return text;
  };
  const enter = (given) => {
    if (token === null || given !== token) throw new ErrorConstructor('the mapping runner is not yours to call');
    if (busy) throw new ErrorConstructor('the mapping runner is not re-entrant');
  };
  const runner = {
    seal(given) {
      if (token !== null) throw new ErrorConstructor('the mapping runner is sealed');
      token = given;
    },
    // Runs the given events (JSON texts; run i is numbered firstSeq + i) until sliceMs have passed; their reports,
    // NUL-separated (JSON escapes NUL). A run that throws ends the call: takeFailed() then has its report.
    runMany(given, firstSeq, script, eventJsons, maxOutputChars, maxLogChars, limitMs, sliceMs, seed) {
      enter(given);
      busy = true;
      reports = [];
      try {
        const started = dateNow();
        seq = firstSeq;
        phase = 'compile';
        const fn = compile(script);
        for (let i = 0; i < eventJsons.length; i++) {
          runOne(firstSeq + i, fn, eventJsons[i], maxOutputChars, maxLogChars, limitMs, seed);
          reports.push(report(firstSeq + i));
          // A context the run left unclean is replaced before the next run.
          if (!clean || dateNow() - started >= sliceMs) break;
        }
      } finally {
        busy = false;
      }
      return takeReports();
    },
    // After a runMany that threw or was stopped: the reports of the runs that ended, then the failed run's own.
    takeFailed(given) {
      enter(given);
      reports.push(report(seq));
      return takeReports();
    },
    // Evaluated after a request's last run, behind any promise jobs the runs left: whether the context is clean,
    // and what those jobs logged (the last run's, where the request had one run).
    settle(given) {
      enter(given);
      reports = [];
      const text = jsonStringify({ clean: sweep(), logs });
      logs = [];
      return text;
    },
    check(given, script) {
      enter(given);
      compile(script);
      return true;
    },
  };
  defineProperty(G, '__outflowMapping', { value: runner, writable: false, enumerable: false, configurable: false });

  // Freeze every built-in reachable from the global object, plus the intrinsics only reachable through syntax.
  const seen = new Set();
  const pending = [];
  const visit = (value) => {
    if (((typeof value === 'object' && value !== null) || typeof value === 'function') && value !== G) {
      if (!seen.has(value)) {
        seen.add(value);
        pending.push(value);
      }
    }
  };
  const visitProperties = (object) => {
    for (const key of ownKeys(object)) {
      const descriptor = getOwnPropertyDescriptor(object, key);
      visit(descriptor.value);
      visit(descriptor.get);
      visit(descriptor.set);
    }
  };
  visitProperties(G);
  // The global object's own prototype is no built-in a name reaches, but a script reaches it all the same.
  visit(getPrototypeOf(G));
  // Objects only made at run time, yet the same each time (tests/mapping/reachable.js finds them): the functions the
  // getters above return, and the getter and setter of the `stack` accessor V8 puts on every error.
  for (const value of overridden) visit(value);
  visitProperties(new ErrorConstructor());
  for (const value of [
    function* () {}, async function () {}, async function* () {}, async () => {},
    [][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ''[Symbol.iterator](),
    /./[Symbol.matchAll](''), [].values().map((x) => x), Iterator.from({ next() {} }),
    new Intl.Segmenter().segment(''), new Intl.Segmenter().segment('')[Symbol.iterator](),
    (function* () {})(), (async function* () {})(), (function () { return arguments; })(),
  ]) {
    visit(getPrototypeOf(value));
  }
  while (pending.length) {
    const object = pending.pop();
    visitProperties(object);
    visit(getPrototypeOf(object));
    freeze(object);
  }

  // The global object itself stays extensible so scripts may use it as scratch space; what they add is swept away.
  for (const key of ownKeys(G)) {
    const descriptor = getOwnPropertyDescriptor(G, key);
    defineProperty(G, key, 'value' in descriptor ? { writable: false, configurable: false } : { configurable: false });
  }
  const baseline = new Set(ownKeys(G));
  const globalPrototype = getPrototypeOf(G);
  // False when the global object cannot be put back as it was, so the caller must replace the whole context.
  const sweep = () => {
    let clean = true;
    const keys = ownKeys(G);
    if (keys.length !== baseline.size) {
      for (const key of keys) {
        if (!baseline.has(key) && !deleteProperty(G, key)) clean = false;
      }
    }
    if (getPrototypeOf(G) !== globalPrototype && !setPrototypeOf(G, globalPrototype)) clean = false;
    if (__TimerManager !== undefined) __TimerManager = undefined;
    return clean && isExtensible(G);
  };
})();
