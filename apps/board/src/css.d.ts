// Stylesheets are bundled by esbuild; TypeScript only needs to know the import is allowed.
declare module "*.css"
