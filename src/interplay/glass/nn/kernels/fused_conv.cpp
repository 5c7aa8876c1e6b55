// Fused CPU kernel of the channel-wise Clebsch-Gordan convolution (thesis eq. 2.64),
// ``model.net.conv_impl=fused`` (docs/fast_conv.md, "Fused C++ kernel"):
//
//   out_i[p][k][c] = sum_{j -> i} w_ij[p][t(k)][c] U_ij[k][c],
//   U_ij[k][c]     = sum_{(b, a) in nz(k)} M_p[b][a][k] Y_ij[b] h_j[p][a][c]
//
// per input piece p (one l_I; k = (triplet t, m) its message columns, M_p the scaled 3j tables
// of the fast kernel's plan, stored sparse and grouped by k). Channels are the innermost axis
// of every array (h, weights, messages), so every operation is a fixed-width vector op over
// channels with a scalar coefficient: no filter matrix, scratch rows in L1.
// Edges are visited by centre (CSR of edge_dst): the forward pass writes every output row once
// without atomics; the backward pass recomputes U and accumulates dL/dh_j in one (N, Dh)
// buffer per thread. One OpenMP parallel region per call.
#include <torch/extension.h>
#include <omp.h>

#include <algorithm>
#include <vector>

namespace {

struct Piece {
  int64_t in_start, C, A, K, ntrip, out_start, nnz0, nnz1, tofk0, unused;
};

std::vector<Piece> read_meta(const at::Tensor& meta) {
  TORCH_CHECK(meta.dim() == 2 && meta.size(1) == 10, "meta must be (P, 10)");
  auto m = meta.accessor<int64_t, 2>();
  std::vector<Piece> ps;
  for (int64_t p = 0; p < meta.size(0); ++p)
    ps.push_back({m[p][0], m[p][1], m[p][2], m[p][3], m[p][4], m[p][5], m[p][6], m[p][7],
                  m[p][8], m[p][9]});
  return ps;
}

constexpr int VW = 8;  // channels per vector block (the paper model has 8)

// coef[n] = M[n] Y[b(n)] for the non-zeros of one piece
template <typename S>
inline void coefficients(const Piece& p, const S* y, const int64_t* nb, const S* nv, S* coef) {
  for (int64_t n = p.nnz0; n < p.nnz1; ++n) coef[n] = nv[n] * y[nb[n]];
}

// Every loop below is flat over the non-zeros or the message columns of a piece, with a
// fixed-width body over channels: no short variable-length inner loops (branch mispredictions
// dominated a per-k version of this kernel: 4.9 us per edge, forward).

// forward, channels [c0, c0 + W) of one edge and piece; U: (K, W) scratch
template <typename S, int W>
inline void fwd_block(const Piece& p, int64_t c0, const S* __restrict coef,
                      const int64_t* __restrict na, const int64_t* __restrict nk,
                      const int64_t* __restrict tofk, const S* __restrict hj,
                      const S* __restrict we, S* __restrict o, S* __restrict U) {
  const int64_t C = p.C;
  std::fill(U, U + p.K * W, S(0));
  for (int64_t n = p.nnz0; n < p.nnz1; ++n) {  // U[k][c] += M Y h_j[a][c]
    const S cf = coef[n];
    const S* hr = hj + na[n] * C + c0;
    S* u = U + nk[n] * W;
#pragma omp simd
    for (int cc = 0; cc < W; ++cc) u[cc] += cf * hr[cc];
  }
  for (int64_t k = 0; k < p.K; ++k) {  // out[k][c] += w[t(k)][c] U[k][c]
    const S* wv = we + tofk[k] * C + c0;
    const S* u = U + k * W;
    S* ok = o + k * C + c0;
#pragma omp simd
    for (int cc = 0; cc < W; ++cc) ok[cc] += wv[cc] * u[cc];
  }
}

// backward, channels [c0, c0 + W) of one edge and piece; U, WG: (K, W), GH: (A, W) scratch
template <typename S, int W>
inline void bwd_block(const Piece& p, int64_t c0, const S* __restrict coef,
                      const int64_t* __restrict na, const int64_t* __restrict nk,
                      const int64_t* __restrict nb, const S* __restrict nv,
                      const int64_t* __restrict tofk, const S* __restrict hj,
                      const S* __restrict we, const S* __restrict g, S* __restrict gwe,
                      S* __restrict ghj, S* __restrict gy, S* __restrict U, S* __restrict WG,
                      S* __restrict GH, bool need_h, bool need_sh, bool need_w) {
  const int64_t C = p.C;
  if (need_w) {  // dL/dw[t][c] = sum_{k in t} g[k][c] U[k][c]
    std::fill(U, U + p.K * W, S(0));
    for (int64_t n = p.nnz0; n < p.nnz1; ++n) {
      const S cf = coef[n];
      const S* hr = hj + na[n] * C + c0;
      S* u = U + nk[n] * W;
#pragma omp simd
      for (int cc = 0; cc < W; ++cc) u[cc] += cf * hr[cc];
    }
    for (int64_t t = 0; t < p.ntrip; ++t)
      for (int cc = 0; cc < W; ++cc) gwe[t * C + c0 + cc] = 0;
    for (int64_t k = 0; k < p.K; ++k) {
      const S* gk = g + k * C + c0;
      const S* u = U + k * W;
      S* gw = gwe + tofk[k] * C + c0;
#pragma omp simd
      for (int cc = 0; cc < W; ++cc) gw[cc] += gk[cc] * u[cc];
    }
  }
  if (!(need_h || need_sh)) return;
  for (int64_t k = 0; k < p.K; ++k) {  // (w g)[k][c]
    const S* gk = g + k * C + c0;
    const S* wv = we + tofk[k] * C + c0;
    S* wg = WG + k * W;
#pragma omp simd
    for (int cc = 0; cc < W; ++cc) wg[cc] = wv[cc] * gk[cc];
  }
  if (need_h) {  // dL/dh_j[a][c] = sum_{n = (b, a, k)} coef[n] (w g)[k][c]
    std::fill(GH, GH + p.A * W, S(0));
    for (int64_t n = p.nnz0; n < p.nnz1; ++n) {
      const S cf = coef[n];
      const S* wg = WG + nk[n] * W;
      S* gr = GH + na[n] * W;
#pragma omp simd
      for (int cc = 0; cc < W; ++cc) gr[cc] += cf * wg[cc];
    }
    for (int64_t a = 0; a < p.A; ++a) {
      S* gr = ghj + a * C + c0;
#pragma omp simd
      for (int cc = 0; cc < W; ++cc) gr[cc] += GH[a * W + cc];
    }
  }
  if (need_sh) {  // dL/dY[b] = sum_{n = (b, a, k)} M[n] sum_c h_j[a][c] (w g)[k][c]
    for (int64_t n = p.nnz0; n < p.nnz1; ++n) {
      const S* hr = hj + na[n] * C + c0;
      const S* wg = WG + nk[n] * W;
      S s = 0;
      for (int cc = 0; cc < W; ++cc) s += hr[cc] * wg[cc];
      gy[nb[n]] += nv[n] * s;
    }
  }
}

// edge id of the idx-th edge in centre order
inline int64_t edge_at(const int64_t* order, int64_t idx) { return order ? order[idx] : idx; }

struct Args {
  const int64_t *src, *order, *rowptr, *nb, *na, *nk, *tk;
  int64_t N, Dh, B, Do, nnz;
};

Args make_args(const at::Tensor& h, const at::Tensor& sh, const at::Tensor& src,
               const at::Tensor& order, const at::Tensor& rowptr, const at::Tensor& nnz_b,
               const at::Tensor& nnz_a, const at::Tensor& nnz_k, const at::Tensor& tk,
               int64_t Do) {
  return {src.data_ptr<int64_t>(),   order.numel() ? order.data_ptr<int64_t>() : nullptr,
          rowptr.data_ptr<int64_t>(), nnz_b.data_ptr<int64_t>(),
          nnz_a.data_ptr<int64_t>(), nnz_k.data_ptr<int64_t>(), tk.data_ptr<int64_t>(),
          rowptr.size(0) - 1,        h.size(1),
          sh.size(1),                Do,
          nnz_b.size(0)};
}

template <typename S>
void forward_impl(const Args& r, const S* hp, const S* yp, const std::vector<const S*>& wp,
                  const std::vector<Piece>& ps, const S* nv, S* op) {
#pragma omp parallel num_threads(at::get_num_threads())
  {
    int64_t max_k = 0;
    for (auto& p : ps) max_k = std::max(max_k, p.K);
    std::vector<S> coef(r.nnz), U(max_k * VW);
#pragma omp for schedule(dynamic, 32)
    for (int64_t i = 0; i < r.N; ++i) {
      S* oi = op + i * r.Do;
      for (int64_t idx = r.rowptr[i]; idx < r.rowptr[i + 1]; ++idx) {
        const int64_t e = edge_at(r.order, idx), j = r.src[e];
        for (size_t q = 0; q < ps.size(); ++q) {
          const Piece& p = ps[q];
          coefficients(p, yp + e * r.B, r.nb, nv, coef.data());
          const S* hj = hp + j * r.Dh + p.in_start;
          const S* we = wp[q] + e * p.C * p.ntrip;
          const int64_t* tofk = r.tk + p.tofk0;
          S* o = oi + p.out_start;
          int64_t c0 = 0;
          for (; c0 + VW <= p.C; c0 += VW)
            fwd_block<S, VW>(p, c0, coef.data(), r.na, r.nk, tofk, hj, we, o, U.data());
          for (; c0 < p.C; ++c0)
            fwd_block<S, 1>(p, c0, coef.data(), r.na, r.nk, tofk, hj, we, o, U.data());
        }
      }
    }
  }
}

template <typename S>
void backward_impl(const Args& r, const S* hp, const S* yp, const std::vector<const S*>& wp,
                   const std::vector<Piece>& ps, const S* nv, const S* gp, S* ghp, S* gyp,
                   const std::vector<S*>& gwp, int n_threads, bool need_h, bool need_sh,
                   bool need_w) {
  int64_t max_k = 0, max_a = 0;
  for (auto& p : ps) max_k = std::max(max_k, p.K), max_a = std::max(max_a, p.A);
#pragma omp parallel num_threads(n_threads)
  {
    std::vector<S> coef(r.nnz), U(max_k * VW), WG(max_k * VW), GH(max_a * VW);
    S* ght = need_h ? ghp + static_cast<int64_t>(omp_get_thread_num()) * r.N * r.Dh : nullptr;
#pragma omp for schedule(dynamic, 32)
    for (int64_t i = 0; i < r.N; ++i) {
      const S* gi = gp + i * r.Do;
      for (int64_t idx = r.rowptr[i]; idx < r.rowptr[i + 1]; ++idx) {
        const int64_t e = edge_at(r.order, idx), j = r.src[e];
        for (size_t q = 0; q < ps.size(); ++q) {
          const Piece& p = ps[q];
          coefficients(p, yp + e * r.B, r.nb, nv, coef.data());
          const S* hj = hp + j * r.Dh + p.in_start;
          const S* we = wp[q] + e * p.C * p.ntrip;
          S* gwe = need_w ? gwp[q] + e * p.C * p.ntrip : nullptr;
          S* ghj = need_h ? ght + j * r.Dh + p.in_start : nullptr;
          S* gy = need_sh ? gyp + e * r.B : nullptr;
          const int64_t* tofk = r.tk + p.tofk0;
          const S* g = gi + p.out_start;
          int64_t c0 = 0;
          for (; c0 + VW <= p.C; c0 += VW)
            bwd_block<S, VW>(p, c0, coef.data(), r.na, r.nk, r.nb, nv, tofk, hj, we, g, gwe,
                             ghj, gy, U.data(), WG.data(), GH.data(), need_h, need_sh, need_w);
          for (; c0 < p.C; ++c0)
            bwd_block<S, 1>(p, c0, coef.data(), r.na, r.nk, r.nb, nv, tofk, hj, we, g, gwe,
                            ghj, gy, U.data(), WG.data(), GH.data(), need_h, need_sh, need_w);
        }
      }
    }
  }
}

void check_inputs(const at::Tensor& h, const at::Tensor& sh, const std::vector<at::Tensor>& w) {
  TORCH_CHECK(h.device().is_cpu() && h.is_contiguous() && sh.is_contiguous(),
              "fused conv: CPU, contiguous h and sh expected");
  for (auto& t : w)
    TORCH_CHECK(t.is_contiguous() && t.scalar_type() == h.scalar_type(),
                "fused conv: contiguous radial weights of h's dtype expected");
}

}  // namespace

// h: (N, Dh) in [piece][a][c] layout; w: per piece (E, n_trip * C) in [t][c]; output
// (N, out_dim) in [piece][k][c]
at::Tensor fused_forward(at::Tensor h, at::Tensor sh, std::vector<at::Tensor> w, at::Tensor src,
                         at::Tensor order, at::Tensor rowptr, at::Tensor meta, at::Tensor nnz_b,
                         at::Tensor nnz_a, at::Tensor nnz_k, at::Tensor nnz_v, at::Tensor tk,
                         int64_t out_dim) {
  check_inputs(h, sh, w);
  auto ps = read_meta(meta);
  auto out = at::zeros({rowptr.size(0) - 1, out_dim}, h.options());
  Args r = make_args(h, sh, src, order, rowptr, nnz_b, nnz_a, nnz_k, tk, out_dim);
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_forward", [&] {
    std::vector<const scalar_t*> wp;
    for (auto& t : w) wp.push_back(t.data_ptr<scalar_t>());
    forward_impl<scalar_t>(r, h.data_ptr<scalar_t>(), sh.data_ptr<scalar_t>(), wp, ps,
                           nnz_v.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
  });
  return out;
}

// returns dL/dh (layout of h), dL/dsh, dL/dw per piece (undefined where not needed)
std::vector<at::Tensor> fused_backward(at::Tensor h, at::Tensor sh, std::vector<at::Tensor> w,
                                       at::Tensor src, at::Tensor order, at::Tensor rowptr,
                                       at::Tensor meta, at::Tensor nnz_b, at::Tensor nnz_a,
                                       at::Tensor nnz_k, at::Tensor nnz_v, at::Tensor tk,
                                       at::Tensor gout,
                                       bool need_h, bool need_sh, bool need_w) {
  check_inputs(h, sh, w);
  TORCH_CHECK(gout.is_contiguous(), "fused conv: contiguous output gradient expected");
  auto ps = read_meta(meta);
  const int n_threads = at::get_num_threads();
  at::Tensor gh = need_h ? at::zeros({n_threads, h.size(0), h.size(1)}, h.options()) : at::Tensor();
  at::Tensor gsh = need_sh ? at::zeros_like(sh) : at::Tensor();
  std::vector<at::Tensor> gw;
  for (auto& t : w) gw.push_back(need_w ? at::empty_like(t) : at::Tensor());
  Args r = make_args(h, sh, src, order, rowptr, nnz_b, nnz_a, nnz_k, tk, gout.size(1));
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_backward", [&] {
    std::vector<const scalar_t*> wp;
    std::vector<scalar_t*> gwp;
    for (size_t q = 0; q < w.size(); ++q) {
      wp.push_back(w[q].data_ptr<scalar_t>());
      gwp.push_back(need_w ? gw[q].data_ptr<scalar_t>() : nullptr);
    }
    backward_impl<scalar_t>(r, h.data_ptr<scalar_t>(), sh.data_ptr<scalar_t>(), wp, ps,
                            nnz_v.data_ptr<scalar_t>(), gout.data_ptr<scalar_t>(),
                            need_h ? gh.data_ptr<scalar_t>() : nullptr,
                            need_sh ? gsh.data_ptr<scalar_t>() : nullptr, gwp, n_threads, need_h,
                            need_sh, need_w);
  });
  std::vector<at::Tensor> res;
  res.push_back(need_h ? gh.sum(0) : at::Tensor());
  res.push_back(gsh);
  for (auto& t : gw) res.push_back(t);
  return res;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &fused_forward, "fused channel-wise CG convolution, forward (eq. 2.64)");
  m.def("backward", &fused_backward, "fused channel-wise CG convolution, backward");
}
