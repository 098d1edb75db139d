// The invisible image watermark: a keyed, self-synchronising spread-spectrum mark in the 8x8
// block DCT of the luminance.
//
// Embedding. A 64-bit payload and 28 keyed check bits (SHA-256 of key, domain and payload) are
// coded with the rate-1/3, constraint-length-7 convolutional code (generators 133, 171, 165
// octal, as in LTE), 294 coded bits. They are spread over a 128x128-pixel tile of 16x16 blocks:
// in every block the ten DCT coefficients (u, v) with 2 <= u + v <= 4 and u, v <= 3 carry one
// chip each, 2560 chips. A keyed permutation gives a quarter of the chips to a fixed keyed
// synchronisation pattern and deals the rest round-robin to the coded bits; a keyed +-1
// sequence signs each chip (Cox et al., "Secure spread spectrum watermarking for multimedia",
// IEEE TIP 1997; Hartung and Girod's spread spectrum in the DCT domain, Signal Processing 1998).
// The tile repeats over the whole image, aligned at the image origin, and each 8x8 block's ten
// coefficients move by a per-block amplitude that follows the block's activity (its pixel
// standard deviation: texture hides change, flat areas show it; Watson's "DCT quantization
// matrices visually optimized", SPIE 1993, is the idea in its simplest form), capped so the
// whole image stays at or above 42 dB PSNR at strength 1. The change is applied to R, G and B
// alike, so chroma is untouched and alpha is never read or written.
//
// Detection. The lowest frequencies used (a wavelength of 8 to 16 pixels) survive JPEG at low
// quality, 4:2:0 chroma (the mark lives in luma), blur and halving. Because the mark is a
// periodic tile, a crop at any offset is a cyclic shift of it (Kutter, "Watermarking resisting
// to translation, rotation and scaling", SPIE 1998, uses the same periodicity). The detector
// first whitens the luminance (each 8x8 block minus its mean, weighted by the amplitude the
// embedder gave a block of that activity over the block's variance: a matched filter in the
// spirit of Hernandez, Amado and Perez-Gonzalez, "DCT-domain watermarking techniques for still
// images: detector performance analysis and a new structure", IEEE TIP 2000), then folds it
// modulo 128 pixels, which averages the tile over every repetition, and finds the shift by phase-only correlation of the folded tile with the synchronisation
// pattern over all 128x128 pixel shifts with one FFT (Kuglin and Hines' phase correlation;
// SPOMF in Kutter's and Deguillaume's work), so the 8-pixel block grid need not be aligned.
// Resizes are handled by a short list of scale hypotheses (the image is resampled back to the
// tile's scale before folding). At each hypothesis the two best shifts are demodulated: block
// DCT of the aligned tile, per-coefficient noise normalisation, soft decisions into a Viterbi
// decoder (Viterbi, IEEE Trans. Inf. Theory 1967).
// Rotation. A turned image no longer folds onto the tile: at 1 degree, pixels 500 from the
// centre sit 9 pixels off, more than the 8-16 pixel wavelengths that carry the chips. So when
// no upright hypothesis decodes (pass 1), pass 2 resamples with a rotation as well as a scale
// (the fold reads the image at scale * R(angle) about the region's centre; rotating about any
// other point differs by a translation, which the shift search absorbs). The angle comes from
// the known pattern itself, as in Kutter (SPIE 1998) and in Pereira and Pun's template search
// ("Robust template matching for affine resistant image watermarks", IEEE TIP 2000): at each
// scale the detector folds a central 256-pixel square at every half degree from -3 to 3
// and keeps the angle whose phase-correlation peak with the sync pattern is highest (the peak
// falls to noise within about half a degree), looks half a step either side, and puts a
// parabola through the best three for the final angle. Two folded tiles go through one complex
// FFT (real and imaginary parts), so the search costs seven transform pairs per scale. Then
// the whole region is folded at that angle and its two best shifts decoded as in pass 1.
// An upright image is found by pass 1 and never pays for the search. Not handled: rotations
// beyond about 3.4 degrees, and rescales between the scale hypotheses (each tolerates about
// +-0.5%; the list covers 0.5-1.0 in 5% steps and 1.1-2).
//
// Decision rule. A mark is claimed only when the 28 decoded check bits equal the keyed hash of
// the 64 decoded payload bits. On an unmarked image the decoded word is unrelated to the key's
// hash, so each hypothesis passes with probability 2^-28. The angle of pass 2 is chosen by the
// sync peak alone, which never reads the check bits, so it adds one decode per scale and
// candidate, not one per angle tried: the detector tries at most 2 passes x kScales x
// kCandidates = 2 x 16 x 2 = 64 hypotheses, and the false-positive probability per image is at
// most 64 * 2^-28 = 2.4e-7 (a union bound), below the 1e-6 target. The sync peak and the
// correlation are reported as confidence figures but do not enter the rule.
#include "lightvault/mark/image_watermark.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <complex>
#include <cstring>
#include <numeric>
#include <optional>
#include <string_view>
#include <utility>

#include "lightvault/util/text.h"

namespace lv::mark {
namespace {

constexpr std::string_view kDomain = "lightvault image watermark v1";
constexpr int kTile = 128;                 // pixels; a power of two for the FFT
constexpr int kTileBlocks = kTile / 8;     // 16 blocks a side
constexpr int kBlocks = kTileBlocks * kTileBlocks;
constexpr int kCoefs = 10;
// (row, column) of the DCT coefficients that carry chips: low enough to survive JPEG 50, 3x3
// blur and a halving (index 4 is the Nyquist frequency of a half-size image), high enough that
// the host image's own energy there is modest and the change does not read as blockiness.
constexpr int kCoefRow[kCoefs] = {0, 1, 2, 0, 1, 2, 3, 1, 2, 3};
constexpr int kCoefCol[kCoefs] = {2, 1, 0, 3, 2, 1, 0, 3, 2, 1};
constexpr int kChips = kBlocks * kCoefs;
constexpr int kSyncChips = kChips / 4;
constexpr int kPayloadBits = 64;
constexpr int kCheckBits = 28;
constexpr int kInfoBits = kPayloadBits + kCheckBits;
constexpr int kConstraint = 7;
constexpr int kSteps = kInfoBits + kConstraint - 1;  // the encoder is flushed to state 0
constexpr int kRate = 3;
constexpr int kCodedBits = kSteps * kRate;
constexpr uint32_t kGenerators[kRate] = {0133, 0171, 0165};
// Scales the detector tries (size of the image it is given over the size that was marked).
constexpr double kScales[] = {1.0, 0.9, 0.8, 0.75, 2.0 / 3.0, 0.5, 0.95, 0.85, 0.7, 0.65, 0.6, 0.55, 1.1, 1.25, 1.5, 2.0};
constexpr int kScaleCount = static_cast<int>(sizeof kScales / sizeof kScales[0]);
constexpr int kCandidates = 2;
// Rotation: pass 2 scores the angles +-kAngleStep ... +-kAngleSteps * kAngleStep (degrees),
// then half a step either side of the best, on a central square of at most kSearchRegion
// pixels: four tiles are enough for the sync peak to stand out at the right angle, at a
// sixteenth of the cost of folding the whole region.
constexpr double kAngleStep = 0.5;
constexpr int kAngleSteps = 6;
constexpr int kSearchRegion = 256;
// Pass 1 decodes upright, pass 2 at the angle the sync search picked: each decodes
// kCandidates shifts at every scale.
constexpr int kPasses = 2;
// The detector reads at most this many pixels a side (at the tile's scale): 64 tiles are
// ample, and it bounds the time on large images.
constexpr int kMaxRegion = 1024;
// Amplitude of the added pattern, as a per-pixel RMS in grey levels: flat blocks get kFlatRms,
// textured ones up to kMaxRms, and the image as a whole at most kTargetRms (42 dB PSNR).
constexpr double kFlatRms = 0.5;
constexpr double kActivityGain = 0.2;
constexpr double kMaxRms = 4.5;
constexpr double kTargetPsnr = 42.0;
// Variance (grey levels squared) the detector assumes in every block besides the host's own:
// rounding, JPEG and noise.
constexpr double kNoiseFloor = 4.0;

struct Rng {  // splitmix64: the key's SHA-256 seeds it, so every sequence here is keyed
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

std::array<uint8_t, 32> sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1) out.fill(0);
  return out;
}

std::string keyed_message(const ImageWatermarkKey& key, std::string_view what) {
  std::string m(kDomain);
  m.push_back('\0');
  m.append(what);
  m.push_back('\0');
  m.append(reinterpret_cast<const char*>(key.data()), key.size());
  return m;
}

uint32_t check_bits(const ImageWatermarkKey& key, uint64_t payload) {
  std::string m = keyed_message(key, "check");
  for (int i = 0; i < 8; ++i) m.push_back(static_cast<char>(payload >> (8 * i)));
  const auto h = sha256(m);
  const uint32_t v = uint32_t{h[0]} | uint32_t{h[1]} << 8 | uint32_t{h[2]} << 16 | uint32_t{h[3]} << 24;
  return v & ((1u << kCheckBits) - 1);
}

// The orthonormal 8-point DCT-II matrix: C[k][n].
struct Dct8 {
  double c[8][8];
  Dct8() {
    for (int k = 0; k < 8; ++k) {
      for (int n = 0; n < 8; ++n) {
        c[k][n] = (k == 0 ? std::sqrt(1.0 / 8) : std::sqrt(2.0 / 8)) * std::cos(M_PI * (2 * n + 1) * k / 16.0);
      }
    }
  }
};
const Dct8& dct8() {
  static const Dct8 d;
  return d;
}

// Where each chip lives and what it carries, all drawn from the key.
struct Layout {
  std::array<int8_t, kChips> sign;  // keyed +-1
  std::array<int16_t, kChips> bit;  // coded bit index, or -1 for a synchronisation chip
};

// chip index = block * kCoefs + coefficient, block = by * kTileBlocks + bx.
Layout make_layout(const ImageWatermarkKey& key) {
  Layout l;
  const auto seed = sha256(keyed_message(key, "layout"));
  Rng rng{0};
  std::memcpy(&rng.s, seed.data(), sizeof rng.s);
  for (int i = 0; i < kChips; ++i) l.sign[i] = (rng.next() >> 63) ? 1 : -1;
  std::array<int, kChips> order;
  std::iota(order.begin(), order.end(), 0);
  for (int i = kChips - 1; i > 0; --i) std::swap(order[i], order[rng.next() % static_cast<uint64_t>(i + 1)]);
  for (int i = 0; i < kChips; ++i) {
    l.bit[order[i]] = static_cast<int16_t>(i < kSyncChips ? -1 : (i - kSyncChips) % kCodedBits);
  }
  return l;
}

// Spatial kTile x kTile pattern whose block DCT has value[chip] at each chip's coefficient.
std::vector<float> tile_pattern(const std::array<float, kChips>& value) {
  const Dct8& d = dct8();
  std::vector<float> tile(kTile * kTile, 0.0f);
  for (int b = 0; b < kBlocks; ++b) {
    const int bx = b % kTileBlocks, by = b / kTileBlocks;
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        double s = 0;
        for (int k = 0; k < kCoefs; ++k) s += value[b * kCoefs + k] * d.c[kCoefRow[k]][y] * d.c[kCoefCol[k]][x];
        tile[(by * 8 + y) * kTile + bx * 8 + x] = static_cast<float>(s);
      }
    }
  }
  return tile;
}

std::array<uint8_t, kCodedBits> encode_bits(uint64_t payload, uint32_t check) {
  std::array<uint8_t, kSteps> info{};
  for (int i = 0; i < kPayloadBits; ++i) info[i] = (payload >> i) & 1;
  for (int i = 0; i < kCheckBits; ++i) info[kPayloadBits + i] = (check >> i) & 1;
  std::array<uint8_t, kCodedBits> coded{};
  uint32_t state = 0;  // the last kConstraint-1 input bits, newest in bit 0
  for (int t = 0; t < kSteps; ++t) {
    const uint32_t reg = (state << 1) | info[t];
    for (int r = 0; r < kRate; ++r) coded[t * kRate + r] = __builtin_parity(reg & kGenerators[r]);
    state = reg & ((1u << (kConstraint - 1)) - 1);
  }
  return coded;
}

// Soft-decision Viterbi: the info bits whose codeword best correlates with `soft` (positive
// means a coded 1).
std::array<uint8_t, kSteps> viterbi(const std::array<double, kCodedBits>& soft) {
  constexpr int kStates = 1 << (kConstraint - 1);
  std::array<double, kStates> metric;
  metric.fill(-1e300);
  metric[0] = 0;
  std::vector<std::array<uint8_t, kStates>> from(kSteps);  // previous state's dropped bit
  for (int t = 0; t < kSteps; ++t) {
    std::array<double, kStates> next;
    next.fill(-1e300);
    const bool tail = t >= kInfoBits;
    for (int s = 0; s < kStates; ++s) {
      if (metric[s] <= -1e299) continue;
      for (uint32_t in = 0; in <= (tail ? 0u : 1u); ++in) {
        const uint32_t reg = (static_cast<uint32_t>(s) << 1) | in;
        double m = metric[s];
        for (int r = 0; r < kRate; ++r) m += __builtin_parity(reg & kGenerators[r]) ? soft[t * kRate + r] : -soft[t * kRate + r];
        const int ns = static_cast<int>(reg & (kStates - 1));
        if (m > next[ns]) {
          next[ns] = m;
          from[t][ns] = static_cast<uint8_t>(s >> (kConstraint - 2));  // the bit shifted out
        }
      }
    }
    metric = next;
  }
  std::array<uint8_t, kSteps> info{};
  int s = 0;
  for (int t = kSteps - 1; t >= 0; --t) {
    info[t] = s & 1;
    s = (s >> 1) | (from[t][s] << (kConstraint - 2));
  }
  return info;
}

// In-place radix-2 FFTs of length kTile (inverse without the 1/n). Complex products are
// written out: std::complex's operator* checks for infinities through a library call, which
// made the FFTs most of the detector's time; the twiddles are computed once, since the
// rotation search runs a few hundred of these transforms on an unmarked image.
struct Twiddles {
  std::array<double, kTile / 2> re, im;  // exp(-2 pi i k / kTile)
  Twiddles() {
    for (int k = 0; k < kTile / 2; ++k) {
      re[k] = std::cos(2 * M_PI * k / kTile);
      im[k] = -std::sin(2 * M_PI * k / kTile);
    }
  }
};
const Twiddles& twiddles() {
  static const Twiddles t;
  return t;
}

// One butterfly stage's twiddle for index j of a transform of length len.
inline void twiddle(int len, int j, bool inverse, double& wr, double& wi) {
  const Twiddles& tw = twiddles();
  wr = tw.re[j * (kTile / len)];
  wi = inverse ? -tw.im[j * (kTile / len)] : tw.im[j * (kTile / len)];
}

// Bit-reversed order of 0..kTile-1: calls swap(i, j) for each pair out of place.
template <typename Swap>
void bit_reverse(Swap swap) {
  for (int i = 1, j = 0; i < kTile; ++i) {
    int bit = kTile >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) swap(i, j);
  }
}

void fft_row(std::complex<double>* a, bool inverse) {
  bit_reverse([&](int i, int j) { std::swap(a[i], a[j]); });
  for (int len = 2; len <= kTile; len <<= 1) {
    for (int j = 0; j < len / 2; ++j) {
      double wr, wi;
      twiddle(len, j, inverse, wr, wi);
      for (int i = 0; i < kTile; i += len) {
        std::complex<double>& p = a[i + j];
        std::complex<double>& q = a[i + j + len / 2];
        const double vr = q.real() * wr - q.imag() * wi, vi = q.real() * wi + q.imag() * wr;
        q = {p.real() - vr, p.imag() - vi};
        p = {p.real() + vr, p.imag() + vi};
      }
    }
  }
}

// The column transforms run as butterflies between whole rows, so memory is read in order
// (a column at a time strides the tile, which made this pass slower than the rows').
void fft_columns(std::complex<double>* a, bool inverse) {
  bit_reverse([&](int i, int j) { std::swap_ranges(a + i * kTile, a + (i + 1) * kTile, a + j * kTile); });
  for (int len = 2; len <= kTile; len <<= 1) {
    for (int j = 0; j < len / 2; ++j) {
      double wr, wi;
      twiddle(len, j, inverse, wr, wi);
      for (int i = 0; i < kTile; i += len) {
        std::complex<double>* p = a + (i + j) * kTile;
        std::complex<double>* q = a + (i + j + len / 2) * kTile;
        for (int x = 0; x < kTile; ++x) {
          const double vr = q[x].real() * wr - q[x].imag() * wi, vi = q[x].real() * wi + q[x].imag() * wr;
          q[x] = {p[x].real() - vr, p[x].imag() - vi};
          p[x] = {p[x].real() + vr, p[x].imag() + vi};
        }
      }
    }
  }
}

void fft2(std::vector<std::complex<double>>& a, bool inverse) {
  for (int y = 0; y < kTile; ++y) fft_row(a.data() + y * kTile, inverse);
  fft_columns(a.data(), inverse);
}

// Luminance in grey levels (BT.601 weights in 256ths): the only thing the mark changes.
inline int luma(const uint8_t* p, int channels) {
  return channels < 3 ? p[0] : (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8;
}

// The detector's view of a rectangle of the luminance: each pixel minus its 8x8 block's mean
// (the host's smooth content, which carries no chips), times a per-block weight a/(sd^2 + c),
// where a is the amplitude the embedder gives a block of that activity and sd^2 the host's own
// energy there: the matched-filter weight, so busy blocks, loud in both mark and host, do not
// drown the quiet ones. Blocks start at the rectangle's corner; after a crop they no longer
// line up with the mark's blocks, which only makes the estimates a little blurrier.
struct Plane {
  int x0 = 0, y0 = 0, width = 0, height = 0;
  std::vector<float> v;
};

Plane whitened(const Image& image, int x0, int y0, int width, int height) {
  Plane plane{x0, y0, width, height, std::vector<float>(static_cast<size_t>(width) * height)};
  const int c = image.channels;
  for (int by = 0; by < height; by += 8) {
    const int ey = std::min(by + 8, height);
    for (int y = by; y < ey; ++y) {
      const uint8_t* p = image.row(y0 + y) + static_cast<size_t>(x0) * c;
      float* out = plane.v.data() + static_cast<size_t>(y) * width;
      for (int x = 0; x < width; ++x) out[x] = static_cast<float>(luma(p + static_cast<size_t>(x) * c, c));
    }
    for (int bx = 0; bx < width; bx += 8) {
      const int ex = std::min(bx + 8, width);
      float s = 0, sq = 0;
      for (int y = by; y < ey; ++y) {
        const float* r = plane.v.data() + static_cast<size_t>(y) * width;
        for (int x = bx; x < ex; ++x) {
          s += r[x];
          sq += r[x] * r[x];
        }
      }
      const float n = static_cast<float>((ey - by) * (ex - bx)), mean = s / n;
      const float var = std::max(sq / n - mean * mean, 0.0f);
      const float amplitude = static_cast<float>(std::min(kFlatRms + kActivityGain * std::sqrt(var), kMaxRms));
      const float weight = amplitude / (var + static_cast<float>(kNoiseFloor));
      for (int y = by; y < ey; ++y) {
        float* r = plane.v.data() + static_cast<size_t>(y) * width;
        for (int x = bx; x < ex; ++x) r[x] = (r[x] - mean) * weight;
      }
    }
  }
  return plane;
}

// The target-grid region fold() reads at `scale` (at most kMaxRegion a side, centred), and
// the rectangle of the image it samples.
struct Region {
  int ox, oy, rw, rh;     // in pixels of the image resampled by 1/scale
  int x0, y0, x1, y1;     // in pixels of the image, x1 and y1 exclusive
};

Region region_at(int width, int height, double scale) {
  Region r{};
  const int tw = static_cast<int>(std::floor(width / scale)), th = static_cast<int>(std::floor(height / scale));
  r.rw = std::min(tw, kMaxRegion);
  r.rh = std::min(th, kMaxRegion);
  r.ox = (tw - r.rw) / 2;
  r.oy = (th - r.rh) / 2;
  r.x0 = std::clamp(static_cast<int>(std::floor(r.ox * scale)) - 1, 0, width);
  r.y0 = std::clamp(static_cast<int>(std::floor(r.oy * scale)) - 1, 0, height);
  r.x1 = std::clamp(static_cast<int>(std::ceil((r.ox + r.rw) * scale)) + 1, r.x0, width);
  r.y1 = std::clamp(static_cast<int>(std::ceil((r.oy + r.rh) * scale)) + 1, r.y0, height);
  return r;
}

Status check_image(const Image& image) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return make_error("image", "has " + std::to_string(image.channels) + " channels; 1, 3 or 4 are supported");
  }
  if (image.width < 0 || image.height < 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) {
    return make_error("image", "pixel buffer does not match " + std::to_string(image.width) + "x" +
                                   std::to_string(image.height) + "x" + std::to_string(image.channels));
  }
  return Status::Ok();
}

// The whitened luminance resampled to the tile's scale and angle (bilinear) and folded modulo
// the tile: the mean of every pixel that falls on each tile position. Target pixel (x, y) of
// the region reads the image at scale * R(angle) about the region's centre: rotating about
// any other point differs only by a translation, which the cyclic shift search absorbs.
// Unrotated, samples past the image's edge are clamped (the region lies inside the image);
// rotated, the region's corners leave the image, and those samples are skipped.
// The steps t >= 0 at which a + b t lies in [0, limit], as [first, last] (empty: first > last).
std::pair<int, int> steps_inside(double a, double b, double limit, int steps) {
  double lo = 0, hi = steps - 1;
  if (b == 0) {
    if (a < 0 || a > limit) return {1, 0};
  } else {
    const double t0 = -a / b, t1 = (limit - a) / b;
    lo = std::max(lo, std::min(t0, t1));
    hi = std::min(hi, std::max(t0, t1));
  }
  if (lo > hi) return {1, 0};
  return {static_cast<int>(std::ceil(lo)), static_cast<int>(std::floor(hi))};
}

std::vector<float> fold(const Plane& plane, const Region& region, double scale, double angle) {
  std::vector<float> sum(kTile * kTile, 0.0f);
  std::vector<int> count(kTile * kTile, 0);
  const int w = plane.width, h = plane.height;
  const double cx = region.ox + region.rw / 2.0, cy = region.oy + region.rh / 2.0;
  const double c = std::cos(angle) * scale, s = std::sin(angle) * scale;
  const bool rotated = angle != 0.0;
  // Unrotated, every row samples the same columns: where, and with what weight.
  std::vector<int> column;
  std::vector<float> column_weight;
  if (!rotated) {
    column.resize(region.rw);
    column_weight.resize(region.rw);
    for (int i = 0; i < region.rw; ++i) {
      const double sx = std::clamp((region.ox + i + 0.5) * scale - 0.5 - plane.x0, 0.0, w - 1.0);
      column[i] = std::min(static_cast<int>(sx), w - 1);
      column_weight[i] = scale == 1.0 ? 0.0f : static_cast<float>(sx - column[i]);
    }
  }
  for (int y = region.oy; y < region.oy + region.rh; ++y) {
    float* srow = sum.data() + (y & (kTile - 1)) * kTile;
    int* crow = count.data() + (y & (kTile - 1)) * kTile;
    if (!rotated) {
      const double sy = std::clamp((y + 0.5) * scale - 0.5 - plane.y0, 0.0, h - 1.0);
      const int y0 = std::min(static_cast<int>(sy), h - 1), y1 = std::min(y0 + 1, h - 1);
      const float fy = static_cast<float>(sy - y0);
      const float* r0 = plane.v.data() + static_cast<size_t>(y0) * w;
      const float* r1 = plane.v.data() + static_cast<size_t>(y1) * w;
      for (int i = 0; i < region.rw; ++i) {
        const int x0 = column[i], x1 = std::min(x0 + 1, w - 1), cell = (region.ox + i) & (kTile - 1);
        const float fx = column_weight[i];
        const float top = r0[x0] + fx * (r0[x1] - r0[x0]), bottom = r1[x0] + fx * (r1[x1] - r1[x0]);
        srow[cell] += scale == 1.0 ? r0[x0] : top + fy * (bottom - top);
        ++crow[cell];
      }
      continue;
    }
    // Source position of the row's first pixel; each step right adds (c, s). Only the steps
    // whose 2x2 neighbourhood lies inside the plane are read (clamped again, against rounding).
    const double v0 = y + 0.5 - cy, u0 = region.ox + 0.5 - cx;
    const double sx0 = cx * scale + c * u0 - s * v0 - 0.5 - plane.x0;
    const double sy0 = cy * scale + s * u0 + c * v0 - 0.5 - plane.y0;
    const auto [ax, bx] = steps_inside(sx0, c, w - 1.0, region.rw);
    const auto [ay, by] = steps_inside(sy0, s, h - 1.0, region.rw);
    const int first = std::max(ax, ay), last = std::min(bx, by);
    if (w < 2 || h < 2) continue;
    for (int i = first; i <= last; ++i) {
      const double sx = sx0 + c * i, sy = sy0 + s * i;
      const int x0 = std::clamp(static_cast<int>(sx), 0, w - 2), y0 = std::clamp(static_cast<int>(sy), 0, h - 2);
      const float fx = static_cast<float>(sx - x0), fy = static_cast<float>(sy - y0);
      const float* r0 = plane.v.data() + static_cast<size_t>(y0) * w + x0;
      const float* r1 = r0 + w;
      const float top = r0[0] + fx * (r0[1] - r0[0]), bottom = r1[0] + fx * (r1[1] - r1[0]);
      const int cell = (region.ox + i) & (kTile - 1);
      srow[cell] += top + fy * (bottom - top);
      ++crow[cell];
    }
  }
  std::vector<float> folded(kTile * kTile, 0.0f);
  double mean = 0;
  int cells = 0;
  for (int i = 0; i < kTile * kTile; ++i) {
    if (count[i]) {
      folded[i] = static_cast<float>(sum[i] / count[i]);
      mean += folded[i];
      ++cells;
    }
  }
  mean = cells ? mean / cells : 0;
  for (int i = 0; i < kTile * kTile; ++i) folded[i] = count[i] ? static_cast<float>(folded[i] - mean) : 0.0f;
  return folded;
}

struct Peak {
  int dx, dy;
  double z;
};

// Phase-only correlation of one or two folded tiles with the sync pattern over every cyclic
// shift, in one pair of transforms: two real tiles ride as the real and imaginary parts of one
// input (their spectra part by Hermitian symmetry), and as both correlations are real they
// come back the same way. Real part of the result: `a`'s surface; imaginary part: `b`'s.
// The result lives in `scratch`, which one detection reuses for all its calls: allocating the
// two 256 KiB transforms afresh each time cost as much as the arithmetic, in page faults.
struct CorrelationScratch {
  std::vector<std::complex<double>> z = std::vector<std::complex<double>>(kTile * kTile);
  std::vector<std::complex<double>> q = std::vector<std::complex<double>>(kTile * kTile);
};

const std::vector<std::complex<double>>& correlate(const std::vector<float>& a, const std::vector<float>* b,
                                                   const std::vector<std::complex<double>>& sync_spectrum,
                                                   CorrelationScratch& scratch) {
  std::vector<std::complex<double>>& z = scratch.z;
  std::vector<std::complex<double>>& q = scratch.q;
  for (int i = 0; i < kTile * kTile; ++i) z[i] = {a[i], b ? (*b)[i] : 0.0f};
  fft2(z, false);
  // Whitened cross-power of spectrum f with the sync pattern's g: f conj(g) / |f|.
  auto whiten = [](std::complex<double> f, std::complex<double> g) {
    const double mag = std::sqrt(f.real() * f.real() + f.imag() * f.imag());
    return mag > 1e-9 ? std::complex<double>((f.real() * g.real() + f.imag() * g.imag()) / mag,
                                             (f.imag() * g.real() - f.real() * g.imag()) / mag)
                      : std::complex<double>(0.0, 0.0);
  };
  for (int ky = 0; ky < kTile; ++ky) {
    for (int kx = 0; kx < kTile; ++kx) {
      const int i = ky * kTile + kx;
      const std::complex<double> g = sync_spectrum[i];
      if (!b) {
        q[i] = whiten(z[i], g);
        continue;
      }
      const std::complex<double> zk = z[i], zm = std::conj(z[((kTile - ky) % kTile) * kTile + (kTile - kx) % kTile]);
      const std::complex<double> fa{(zk.real() + zm.real()) / 2, (zk.imag() + zm.imag()) / 2};
      const std::complex<double> fb{(zk.imag() - zm.imag()) / 2, (zm.real() - zk.real()) / 2};  // (zk - zm) / 2i
      const std::complex<double> pa = whiten(fa, g), pb = whiten(fb, g);
      q[i] = {pa.real() - pb.imag(), pa.imag() + pb.real()};
    }
  }
  fft2(q, true);
  return q;
}

// The `candidates` shifts of highest correlation in one part of a correlate() surface, best
// first, each with its z-score over all shifts.
std::vector<Peak> peaks(const std::vector<std::complex<double>>& surface, bool imaginary, int candidates) {
  // Reads the part in place: a copy of the surface was a 128 KiB allocation per call.
  const double* f = reinterpret_cast<const double*>(surface.data()) + (imaginary ? 1 : 0);
  auto at = [f](size_t i) { return f[2 * i]; };
  const size_t n = surface.size();
  double mean = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) {
    mean += at(i);
    sq += at(i) * at(i);
  }
  mean /= n;
  const double sd = std::sqrt(std::max(sq / n - mean * mean, 1e-30));
  std::vector<Peak> out;
  std::vector<bool> taken(n, false);
  for (int c = 0; c < candidates; ++c) {
    int best = -1;
    for (int i = 0; i < kTile * kTile; ++i) {
      if (!taken[i] && (best < 0 || at(i) > at(best))) best = i;
    }
    taken[best] = true;
    out.push_back({best % kTile, best / kTile, (at(best) - mean) / sd});
  }
  return out;
}

struct Decoded {
  bool found = false;
  uint64_t payload = 0;
  double agreement = 0;
  double correlation = 0;
};

Decoded demodulate(const std::vector<float>& folded, const Peak& shift, const Layout& layout, const ImageWatermarkKey& key) {
  const Dct8& d = dct8();
  // coef[b][k]: DCT coefficient k of block b of the tile shifted into alignment.
  std::vector<double> coef(kChips);
  for (int b = 0; b < kBlocks; ++b) {
    const int bx = b % kTileBlocks, by = b / kTileBlocks;
    double px[8][8];
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        px[y][x] = folded[((by * 8 + y + shift.dy) % kTile) * kTile + (bx * 8 + x + shift.dx) % kTile];
      }
    }
    double rows[4][8];  // only the first four vertical frequencies are used
    for (int u = 0; u < 4; ++u) {
      for (int x = 0; x < 8; ++x) {
        double s = 0;
        for (int y = 0; y < 8; ++y) s += d.c[u][y] * px[y][x];
        rows[u][x] = s;
      }
    }
    for (int k = 0; k < kCoefs; ++k) {
      double s = 0;
      for (int x = 0; x < 8; ++x) s += d.c[kCoefCol[k]][x] * rows[kCoefRow[k]][x];
      coef[b * kCoefs + k] = s;
    }
  }
  // Host-image energy differs by frequency: weight each coefficient by its inverse variance.
  std::array<double, kCoefs> weight{};
  for (int k = 0; k < kCoefs; ++k) {
    double v = 0;
    for (int b = 0; b < kBlocks; ++b) v += coef[b * kCoefs + k] * coef[b * kCoefs + k];
    weight[k] = 1.0 / std::max(v / kBlocks, 1e-12);
  }
  std::array<double, kCodedBits> soft{};
  for (int i = 0; i < kChips; ++i) {
    if (layout.bit[i] >= 0) soft[layout.bit[i]] += layout.sign[i] * coef[i] * weight[i % kCoefs];
  }
  const auto info = viterbi(soft);
  Decoded out;
  uint32_t check = 0;
  for (int i = 0; i < kPayloadBits; ++i) out.payload |= uint64_t{info[i]} << i;
  for (int i = 0; i < kCheckBits; ++i) check |= uint32_t{info[kPayloadBits + i]} << i;
  out.found = check == check_bits(key, out.payload);
  const auto coded = encode_bits(out.payload, check);
  int agree = 0;
  double dot = 0, norm = 0;
  for (int j = 0; j < kCodedBits; ++j) {
    const double sign = coded[j] ? 1.0 : -1.0;
    agree += soft[j] * sign > 0;
    dot += soft[j] * sign;
    norm += soft[j] * soft[j];
  }
  out.agreement = static_cast<double>(agree) / kCodedBits;
  out.correlation = norm > 0 ? dot / std::sqrt(norm * kCodedBits) : 0;
  return out;
}

}  // namespace

int image_watermark_hypotheses() { return kPasses * kScaleCount * kCandidates; }
double image_watermark_false_positive_bound() { return image_watermark_hypotheses() * std::ldexp(1.0, -kCheckBits); }

ImageWatermarkKey default_image_watermark_key() {
  // Public by design: a mark made without --key can be checked by anyone with lightvault.
  return sha256(std::string(kDomain) + " default key");
}

Result<ImageWatermarkKey> read_image_watermark_key(const std::string& path) {
  LV_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  ImageWatermarkKey key{};
  if (bytes.size() == key.size()) {
    std::memcpy(key.data(), bytes.data(), key.size());
    return key;
  }
  while (!bytes.empty() && std::isspace(static_cast<unsigned char>(bytes.back()))) bytes.pop_back();
  if (bytes.size() != 2 * key.size()) {
    return make_error(path, "watermark key is " + std::to_string(bytes.size()) +
                                " bytes; expected 32 raw bytes or 64 hex digits (e.g. head -c 32 /dev/urandom > KEY)");
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char ch = bytes[i];
    const int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (v < 0) return make_error(path, "watermark key: character " + std::to_string(i) + " is not a hex digit");
    key[i / 2] = static_cast<uint8_t>(key[i / 2] << 4 | v);
  }
  return key;
}

Status embed_image_watermark(Image& image, uint64_t payload, const ImageWatermarkKey& key,
                             const ImageWatermarkOptions& options) {
  LV_RETURN_IF_ERROR(check_image(image));
  if (!(options.strength > 0 && options.strength <= 10)) {
    return make_error("watermark strength", "must be above 0 and at most 10");
  }
  const Layout layout = make_layout(key);
  const auto coded = encode_bits(payload, check_bits(key, payload));
  std::array<float, kChips> chip{};
  for (int i = 0; i < kChips; ++i) {
    const int bit = layout.bit[i];
    chip[i] = static_cast<float>(layout.sign[i] * (bit < 0 || coded[bit] ? 1 : -1));
  }
  const std::vector<float> tile = tile_pattern(chip);
  // The tile has unit energy per chip, kCoefs chips per 64 pixels: per-pixel RMS of the tile.
  const double tile_rms = std::sqrt(static_cast<double>(kCoefs) / 64.0);

  const int w = image.width, h = image.height, bw = w / 8, bh = h / 8;
  if (bw == 0 || bh == 0) return Status::Ok();  // nothing of a block to mark
  const int c = image.channels, colour = c >= 3 ? 3 : 1;
  std::vector<double> rms(static_cast<size_t>(bw) * bh);
  std::vector<int64_t> sums(bw), squares(bw);
  double total = 0;
  for (int by = 0; by < bh; ++by) {
    std::fill(sums.begin(), sums.end(), 0);
    std::fill(squares.begin(), squares.end(), 0);
    for (int y = by * 8; y < by * 8 + 8; ++y) {
      const uint8_t* p = image.row(y);
      for (int x = 0; x < bw * 8; ++x) {
        const int v = luma(p + static_cast<size_t>(x) * c, c);
        sums[x >> 3] += v;
        squares[x >> 3] += v * v;
      }
    }
    for (int bx = 0; bx < bw; ++bx) {
      const double s = static_cast<double>(sums[bx]), sq = static_cast<double>(squares[bx]);
      const double sd = std::sqrt(std::max(sq / 64 - (s / 64) * (s / 64), 0.0));
      const double a = std::min(kFlatRms + kActivityGain * sd, kMaxRms) * options.strength;
      rms[static_cast<size_t>(by) * bw + bx] = a;
      total += a * a;
    }
  }
  // Keep the whole image at kTargetPsnr (scaled by strength): a busy image would otherwise
  // take the maximum everywhere.
  const double target_mse = std::pow(255.0, 2) / std::pow(10.0, kTargetPsnr / 10) * options.strength * options.strength;
  const double mse = total / rms.size();
  const double global = mse > target_mse ? std::sqrt(target_mse / mse) : 1.0;

  for (int by = 0; by < bh; ++by) {
    for (int bx = 0; bx < bw; ++bx) {
      const double gain = rms[static_cast<size_t>(by) * bw + bx] * global / tile_rms;
      for (int y = by * 8; y < by * 8 + 8; ++y) {
        uint8_t* p = image.row(y) + static_cast<size_t>(bx) * 8 * c;
        const float* t = tile.data() + (y % kTile) * kTile + (bx * 8) % kTile;
        for (int x = 0; x < 8; ++x) {
          const double delta = gain * t[x];
          // Pixels are integers, so rounding the change rounds the result (half away from 0).
          const int step = static_cast<int>(delta + (delta >= 0 ? 0.5 : -0.5));
          for (int ch = 0; ch < colour; ++ch) p[x * c + ch] = static_cast<uint8_t>(std::clamp(p[x * c + ch] + step, 0, 255));
        }
      }
    }
  }
  return Status::Ok();
}

Result<ImageWatermarkDetection> detect_image_watermark(const Image& image, const ImageWatermarkKey& key) {
  LV_RETURN_IF_ERROR(check_image(image));
  ImageWatermarkDetection result;
  result.false_positive_bound = image_watermark_false_positive_bound();
  result.hypotheses = image_watermark_hypotheses();
  if (image.width < 16 || image.height < 16) return result;
  const Layout layout = make_layout(key);
  std::array<float, kChips> sync_chips{};
  for (int i = 0; i < kChips; ++i) sync_chips[i] = layout.bit[i] < 0 ? layout.sign[i] : 0.0f;
  const std::vector<float> sync_tile = tile_pattern(sync_chips);
  std::vector<std::complex<double>> sync_spectrum(sync_tile.begin(), sync_tile.end());
  fft2(sync_spectrum, false);

  CorrelationScratch scratch;
  double best_score = -1;
  // Demodulates the kCandidates best shifts of one (scale, angle): 2 of the hypotheses the
  // bound counts. True when the check bits hold.
  auto decode_at = [&](const std::vector<float>& folded, double scale, double angle_degrees) {
    for (const Peak& peak : peaks(correlate(folded, nullptr, sync_spectrum, scratch), false, kCandidates)) {
      const Decoded d = demodulate(folded, peak, layout, key);
      if (d.found || d.correlation > best_score) {
        best_score = d.correlation;
        result.bit_agreement = d.agreement;
        result.score = d.correlation;
        result.sync_z = peak.z;
      }
      if (d.found) {
        result.found = true;
        result.payload = d.payload;
        result.scale_percent = static_cast<int>(std::lround(scale * 100));
        result.angle_degrees = angle_degrees;
        return true;
      }
    }
    return false;
  };

  // Pass 1, upright: scale 1 comes first and needs only the central kMaxRegion square; the
  // whole image is whitened only when another scale is tried.
  Plane plane;
  bool whole = false;
  for (double scale : kScales) {
    if (image.width / scale < 16 || image.height / scale < 16) continue;
    const Region region = region_at(image.width, image.height, scale);
    if (plane.v.empty() || region.x0 < plane.x0 || region.y0 < plane.y0 || region.x1 > plane.x0 + plane.width ||
        region.y1 > plane.y0 + plane.height) {
      plane = scale == 1.0 && !whole ? whitened(image, region.x0, region.y0, region.x1 - region.x0, region.y1 - region.y0)
                                     : whitened(image, 0, 0, image.width, image.height);
      whole = scale != 1.0;
    }
    if (decode_at(fold(plane, region, scale, 0.0), scale, 0.0)) return result;
  }

  // Pass 2, rotated: at each scale the angle is chosen by the sync peak alone (it never looks
  // at the check bits) on a central rectangle of at most kSearchRegion a side, then the
  // payload is decoded once at that angle over the whole region.
  if (!whole) plane = whitened(image, 0, 0, image.width, image.height);
  std::vector<double> coarse;
  for (int step = 1; step <= kAngleSteps; ++step) coarse.insert(coarse.end(), {step * kAngleStep, -step * kAngleStep});
  for (double scale : kScales) {
    if (image.width / scale < 16 || image.height / scale < 16) continue;
    const Region region = region_at(image.width, image.height, scale);
    Region search = region;
    search.rw = std::min(region.rw, kSearchRegion);
    search.rh = std::min(region.rh, kSearchRegion);
    search.ox = region.ox + (region.rw - search.rw) / 2;
    search.oy = region.oy + (region.rh - search.rh) / 2;
    std::vector<std::pair<double, double>> tried;  // (degrees, sync z)
    auto try_pair = [&](double first, double second) {
      const std::vector<float> a = fold(plane, search, scale, first * M_PI / 180);
      const std::vector<float> b = fold(plane, search, scale, second * M_PI / 180);
      const auto& surface = correlate(a, &b, sync_spectrum, scratch);
      tried.emplace_back(first, peaks(surface, false, 1)[0].z);
      tried.emplace_back(second, peaks(surface, true, 1)[0].z);
    };
    auto z_at = [&](double degrees) -> std::optional<double> {
      for (const auto& [d, z] : tried) {
        if (std::abs(d - degrees) < 1e-9) return z;
      }
      return std::nullopt;
    };
    auto best = [&] { return *std::max_element(tried.begin(), tried.end(), [](auto& l, auto& r) { return l.second < r.second; }); };
    for (size_t i = 0; i + 1 < coarse.size(); i += 2) try_pair(coarse[i], coarse[i + 1]);
    // The sync peak falls to noise within about half a degree on the search region: look a
    // half step either side of the best coarse angle, then put a parabola through the best
    // angle and its neighbours (a half step either side) for the final estimate.
    const double centre = best().first;
    try_pair(centre - kAngleStep / 2, centre + kAngleStep / 2);
    const auto [peak_angle, peak_z] = best();
    double angle = peak_angle;
    const auto below = z_at(peak_angle - kAngleStep / 2), above = z_at(peak_angle + kAngleStep / 2);
    if (below && above) {
      const double curvature = *below - 2 * peak_z + *above;
      if (curvature < 0) angle += std::clamp((*below - *above) / (2 * curvature), -0.5, 0.5) * kAngleStep / 2;
    }
    // Reading the image turned by `angle` undoes a turn of -angle.
    if (decode_at(fold(plane, region, scale, angle * M_PI / 180), scale, -angle)) return result;
  }
  return result;
}

}  // namespace lv::mark
