#!/usr/bin/env bash
# Installs the Debian packages lightvault needs to build, test and run.
# Idempotent: packages already present are skipped, so a second run costs nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-dev libomp-dev # libFuzzer, sanitizer runtimes, OpenMP for clang
  libssl-dev libsqlite3-dev libpq-dev
  libutf8proc-dev                  # NFC file names in hub repositories
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev
  libeigen3-dev libspectra-dev     # scan: sparse eigenproblems (Lanczos)
  libjpeg62-turbo-dev libpng-dev   # mark: image I/O
  libfreetype-dev libharfbuzz-dev libfontconfig-dev fonts-noto-cjk # mark: the visible label
  libexiv2-dev exiv2               # mark: XMP metadata (exiv2 the tool: tests read it back)
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql                       # hub catalog tests for several replicas
  libcmark-gfm-dev libcmark-gfm-extensions-dev  # model cards rendered on the hub's pages
  chromium fonts-dejavu-core       # the web interface's real-browser test (puppeteer-core)
)
# Benchmark peers, only with --bench.
if [ "${1:-}" = "--bench" ]; then
  packages+=(nginx wrk curl python3-sklearn) # python3-sklearn: bench/scan's reference detectors
  # bench/image_watermark: invisible-watermark (the peer) runs on OpenCV, PyWavelets, NumPy;
  # Pillow writes the 4:4:4 and 4:2:0 JPEGs of the attacks.
  packages+=(python3-opencv python3-pywt python3-numpy python3-pil)
fi
# Node.js may come from another source that bundles npm; only ask Debian when absent.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
