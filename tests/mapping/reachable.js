// What a mapping can reach, for tests/mapping/test_isolation.py; it runs as the start of a mapping's body.
// `reachable` maps each object a script can reach more than once to its path: everything reachable from the global
// object (values, getters, setters, prototypes, the intrinsics only syntax reaches), and the values made at run time
// (what getters return, errors and their own accessors, iterators, Intl, Temporal, DisposableStack, what built-in
// functions return) that are the same object each time they are made, that is, shared by every run of the isolate.
const isObject = (value) => (typeof value === 'object' && value !== null) || typeof value === 'function';
const attempt = (make) => {
  try {
    return make();
  } catch {
    return undefined;
  }
};

const staticWalk = () => {
  const seen = new Map();
  const stack = [];
  const visit = (value, path) => {
    if (isObject(value) && !seen.has(value)) {
      seen.set(value, path);
      stack.push(value);
    }
  };
  visit(globalThis, 'globalThis');
  const reachedBySyntax = {
    generator: function* () {}, asyncFunction: async function () {}, asyncGenerator: async function* () {},
    arrow: async () => {}, arrayIterator: [][Symbol.iterator](), mapIterator: new Map()[Symbol.iterator](),
    setIterator: new Set()[Symbol.iterator](), stringIterator: ''[Symbol.iterator](),
    regExpStringIterator: /./[Symbol.matchAll](''), iteratorHelper: [].values().map((x) => x),
    wrapForValidIterator: Iterator.from({ next() {} }), segments: new Intl.Segmenter().segment(''),
    segmentIterator: new Intl.Segmenter().segment('')[Symbol.iterator](),
    arguments: (function () { return arguments; })(),
    promise: Promise.resolve(), error: new Error('x'), regExp: /x/, date: new Date(0), weakRef: new WeakRef({}),
    proxyTarget: new Proxy({}, {}), boundFunction: (function () {}).bind(null),
    throwTypeError: Object.getOwnPropertyDescriptor(Function.prototype, 'caller')?.get,
  };
  for (const [name, value] of Object.entries(reachedBySyntax)) {
    if (value !== undefined) visit(Object.getPrototypeOf(value), `prototype of ${name}`);
  }
  while (stack.length) {
    const object = stack.pop();
    const path = seen.get(object);
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
      const name = `${path}.${String(key)}`;
      visit(descriptor.value, name);
      visit(descriptor.get, `${name} (getter)`);
      visit(descriptor.set, `${name} (setter)`);
    }
    visit(Reflect.getPrototypeOf(object), `${path} (prototype)`);
  }
  return seen;
};

// Values made afresh: each call makes new ones, so an object two calls both reach is one every run shares.
const madeAtRunTime = (built) => {
  const found = new Map();
  const add = (value, path) => {
    if (isObject(value) && !built.has(value) && !found.has(value)) found.set(value, path);
  };
  const samples = new Map();
  const sample = (value, path) => {
    if (isObject(value) && !built.has(value) && !samples.has(value)) samples.set(value, path);
  };
  const thrown = (fail) => {
    try {
      fail();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const explicit = {
    'thrown TypeError': thrown(() => null.x), 'thrown ReferenceError': thrown(() => notDefinedAnywhere),
    'thrown RangeError': thrown(() => new Array(-1)), 'thrown SyntaxError': thrown(() => JSON.parse('{')),
    'thrown URIError': thrown(() => decodeURIComponent('%')), 'stack overflow': thrown(function f() { f(); }),
    'error with cause': new Error('x', { cause: {} }), 'AggregateError': new AggregateError([new Error('x')]),
    'SuppressedError': new SuppressedError(new Error('a'), new Error('b')),
    'captured stack trace': attempt(() => { const holder = {}; Error.captureStackTrace(holder); return holder; }),
    'arguments': (function () { return arguments; })(1),
    'strict arguments': (function () { 'use strict'; return arguments; })(1),
    'generator object': (function* () { yield 1; })(), 'async generator object': (async function* () {})(),
    'promise': Promise.resolve(1), 'rejected promise': attempt(() => { const p = Promise.reject(1); p.catch(() => {}); return p; }),
    'promise with resolvers': Promise.withResolvers(), 'proxy': new Proxy({}, {}),
    'revocable proxy': Proxy.revocable({}, {}), 'bound function': (function () {}).bind(null),
    'class': class Example { #secret = 1; static read(object) { return object.#secret; } },
    'regexp match': /(?<word>a)(b)?/d.exec('ab'), 'regexp matches': [...'aa'.matchAll(/a/g)],
    'template object': ((strings) => strings)`a${1}b`, 'raw JSON': attempt(() => JSON.rawJSON('1')),
    'array iterator': [1].values(), 'array entries': [1].entries(), 'map iterator': new Map([[1, 1]]).entries(),
    'set iterator': new Set([1]).values(), 'string iterator': 'ab'[Symbol.iterator](),
    'regexp string iterator': 'ab'.matchAll(/a/g), 'iterator helper': [1].values().filter(() => true),
    'wrapped iterator': Iterator.from({ next() { return { done: true }; } }),
    'concatenated iterator': attempt(() => Iterator.concat([1])),
    'segments': new Intl.Segmenter('en', { granularity: 'word' }).segment('a b'),
    'date time parts': new Intl.DateTimeFormat('en').formatToParts(0),
    'number parts': new Intl.NumberFormat('en').formatToParts(1.5),
    'resolved options': new Intl.DateTimeFormat('en').resolvedOptions(),
    'locale': new Intl.Locale('en-GB'), 'plural rules': new Intl.PluralRules('en'),
    'relative time parts': new Intl.RelativeTimeFormat('en').formatToParts(1, 'day'),
    'list parts': new Intl.ListFormat('en').formatToParts(['a', 'b']),
    'display names': new Intl.DisplayNames('en', { type: 'region' }), 'collator': new Intl.Collator('en'),
    'duration format': attempt(() => new Intl.DurationFormat('en')),
    'supported values': attempt(() => Intl.supportedValuesOf('calendar')),
    'instant': attempt(() => Temporal.Now.instant()), 'zoned now': attempt(() => Temporal.Now.zonedDateTimeISO()),
    'plain date': attempt(() => Temporal.PlainDate.from('2026-01-02')),
    'plain time': attempt(() => Temporal.PlainTime.from('10:00')),
    'plain date time': attempt(() => Temporal.PlainDateTime.from('2026-01-02T10:00')),
    'year month': attempt(() => Temporal.PlainYearMonth.from('2026-01')),
    'month day': attempt(() => Temporal.PlainMonthDay.from('01-02')),
    'duration': attempt(() => Temporal.Duration.from({ hours: 1 })),
    'zoned': attempt(() => Temporal.ZonedDateTime.from('2026-01-02T10:00[Europe/Paris]')),
    'disposable stack': attempt(() => new DisposableStack()),
    'async disposable stack': attempt(() => new AsyncDisposableStack()),
    'weak map': new WeakMap(), 'weak set': new WeakSet(), 'weak ref': new WeakRef({}),
    'date': new Date(0), 'object': {}, 'array': [1], 'function': function () {}, 'arrow': () => {},
    'async function': async function () {}, 'symbol object': Object(Symbol('x')), 'string object': Object('ab'),
    'number object': Object(1), 'boolean object': Object(true), 'bigint object': Object(1n),
    'grouped': Object.groupBy([1], () => 'a'), 'map grouped': Map.groupBy([1], () => 'a'),
    'json reviver context': attempt(() => { let context; JSON.parse('1', (key, value, given) => { context = given; return value; }); return context; }),
    'console': console,
  };
  for (const [name, value] of Object.entries(explicit)) sample(value, name);
  // What each built-in function makes when called as it most simply can be: on its holder, with no arguments,
  // and as a constructor.
  for (const [object, path] of built) {
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
      const name = `${path}.${String(key)}`;
      if (descriptor.get) sample(attempt(() => Reflect.apply(descriptor.get, object, [])), `${name} (got)`);
      if (typeof descriptor.value === 'function' && descriptor.value !== globalThis.__outflowMapping) {
        sample(attempt(() => Reflect.apply(descriptor.value, object, [])), `${name}()`);
        sample(attempt(() => Reflect.construct(descriptor.value, [])), `new ${name}()`);
      }
    }
  }
  // Each value made so far, its own properties and what its prototypes' getters and methods give for it.
  const chainOf = (object) => {
    const chain = [];
    for (let link = attempt(() => Reflect.getPrototypeOf(object)); isObject(link); link = Reflect.getPrototypeOf(link)) {
      chain.push(link);
    }
    return chain;
  };
  const look = (object, path, callMethods) => {
    add(object, path);
    for (const key of attempt(() => Reflect.ownKeys(object)) ?? []) {
      const descriptor = attempt(() => Reflect.getOwnPropertyDescriptor(object, key));
      if (!descriptor) continue;
      const name = `${path}.${String(key)}`;
      add(descriptor.value, name);
      add(descriptor.get, `${name} (getter)`);
      add(descriptor.set, `${name} (setter)`);
      if (descriptor.get) add(attempt(() => Reflect.apply(descriptor.get, object, [])), `${name} (got)`);
    }
    add(attempt(() => Reflect.getPrototypeOf(object)), `${path} (prototype)`);
    for (const link of chainOf(object)) {
      for (const key of Reflect.ownKeys(link)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(link, key);
        const name = `${path}.${String(key)}`;
        if (descriptor.get) add(attempt(() => Reflect.apply(descriptor.get, object, [])), `${name} (got)`);
        if (callMethods && typeof descriptor.value === 'function' && key !== 'constructor') {
          add(attempt(() => Reflect.apply(descriptor.value, object, [])), `${name}()`);
        }
      }
    }
  };
  for (const [object, path] of samples) look(object, path, true);
  for (const [object, path] of [...found]) look(object, path, false);
  return found;
};

const built = staticWalk();
const firstMade = madeAtRunTime(built);
const secondMade = madeAtRunTime(built);
const reachable = new Map(built);
for (const [object, path] of firstMade) {
  if (secondMade.has(object)) reachable.set(object, `${path} (made at run time)`);
}
const madeShared = reachable.size - built.size;
const unfrozen = [...reachable].filter(([object]) => object !== globalThis && !Object.isFrozen(object))
  .map(([, path]) => path);
