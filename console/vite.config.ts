// The console is static files: index.html and hashed assets in dist/, served
// by make run (depot-local) at / and on AWS from a private S3 bucket behind
// CloudFront. Everything is bundled: no CDN or remote script at run time.
import { defineConfig } from "vite";

export default defineConfig({
  // Relative URLs, so the same build works at any origin.
  base: "./",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
});
