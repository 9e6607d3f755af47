#!/usr/bin/env bash
# Build the officer pages' assets from the pinned npm packages (make assets).
#
# Outputs are committed, so running, testing and packaging the service need no Node:
#   ui/static/officer.css               GOV.UK Frontend's Sass with Hackney's colours, Arial
#   ui/static/govuk-frontend.min.js     GOV.UK Frontend's component scripts
#   tests/ui/vendor/axe.min.js          axe-core, injected by the browser tests
#   ui/static/assets.sha256             what the outputs were built from (checked by a test)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
static=../static
vendor=../../tests/ui/vendor
mkdir -p "$static" "$vendor"
# The trailing source-map comment names a file not shipped; browsers would ask for it.
npx sass --pkg-importer=node --style=compressed --no-source-map officer.scss "$static/officer.css"
sed '/^\/\/# sourceMappingURL=/d; s|//# sourceMappingURL=[^ ]*$||' \
  node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js > "$static/govuk-frontend.min.js"
cp node_modules/axe-core/axe.min.js "$vendor/axe.min.js"
(
  cd ../..
  sha256sum ui/assets/package.json ui/assets/package-lock.json ui/assets/officer.scss \
    ui/assets/build.sh ui/static/officer.css ui/static/govuk-frontend.min.js \
    tests/ui/vendor/axe.min.js
) > "$static/assets.sha256"
echo "assets built: $(cd "$static" && ls | tr '\n' ' ')"
