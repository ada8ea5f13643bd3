# Sourced by run-tests.sh and run-bench.sh: install Debian's chromium (headless browser for the page's
# browser test and cold start) when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian's chromium (headless browser for the page)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
