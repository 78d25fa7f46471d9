// The few Reflect metadata functions @peculiar/x509 (through tsyringe) asks for, so that
// vendor/x509/x509.js loads without the reflect-metadata npm package. A classic script:
// load it before x509.js. Metadata is kept per object and key, looked up along the
// prototype chain by getMetadata, on the object alone by getOwnMetadata.
(function install() {
  if (typeof Reflect === "undefined" || Reflect.getMetadata) return;
  const store = new WeakMap();
  const own = (target, property, create) => {
    let byProperty = store.get(target);
    if (!byProperty && create) store.set(target, (byProperty = new Map()));
    let byKey = byProperty && byProperty.get(property);
    if (!byKey && create) byProperty.set(property, (byKey = new Map()));
    return byKey;
  };
  Reflect.defineMetadata = (key, value, target, property) => { own(target, property, true).set(key, value); };
  Reflect.getOwnMetadata = (key, target, property) => own(target, property, false)?.get(key);
  Reflect.hasOwnMetadata = (key, target, property) => own(target, property, false)?.has(key) || false;
  Reflect.getMetadata = (key, target, property) => {
    for (let t = target; t; t = Object.getPrototypeOf(t)) {
      const found = own(t, property, false);
      if (found && found.has(key)) return found.get(key);
    }
    return undefined;
  };
  Reflect.hasMetadata = (key, target, property) => Reflect.getMetadata(key, target, property) !== undefined;
  Reflect.metadata = (key, value) => (target, property) => Reflect.defineMetadata(key, value, target, property);
})();
