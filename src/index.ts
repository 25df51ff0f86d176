// Public entry point of the package for programmatic use (the Node-RED nodes load their own files).
export {};
