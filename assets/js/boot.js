// Starts the console: loads the wasm-bindgen glue and instantiates the module (scripts/build-console.sh fills
// in the fingerprinted paths).
import init from '{{APP_JS}}';
init({ module_or_path: '{{APP_WASM}}' });
