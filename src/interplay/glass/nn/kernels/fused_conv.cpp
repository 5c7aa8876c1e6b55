// Fused CPU kernel of the channel-wise Clebsch-Gordan convolution (thesis eq. 2.64),
// ``model.net.conv_impl=fused`` (docs/fast_conv.md, "Fused C++ kernel"). Same function and
// same internal layout as the pure-PyTorch ``fast`` kernel (kernels/_fast_plan.py):
//
//   out_i[p][c][k] = sum_{j -> i} w_ij[p][c][t(k)] sum_a h_j[p][c][a] T_ij[p][a][k],
//   T_ij[p][a][k]  = sum_b Y_ij[b] M_p[b][a][k]        (M_p sparse: the scaled 3j tables)
//
// per input piece p (one l_I). Everything of one edge (filter build, contraction, weights,
// accumulation) happens in registers / L1; edges are visited by centre (CSR of edge_dst), so
// the forward pass writes every output row once and needs no atomics. The backward pass
// recomputes T (nothing per edge is saved) and accumulates dL/dh_j in one (N, Dh) buffer per
// thread. Parallel over centres with OpenMP (one parallel region per call).
#include <torch/extension.h>
#include <omp.h>

#include <algorithm>
#include <vector>

namespace {

struct Piece {
  int64_t in_start, C, A, K, ntrip, out_start, nnz0, nnz1, tk0;
};

std::vector<Piece> read_meta(const at::Tensor& meta) {
  TORCH_CHECK(meta.dim() == 2 && meta.size(1) == 9, "meta must be (P, 9)");
  auto m = meta.accessor<int64_t, 2>();
  std::vector<Piece> ps;
  for (int64_t p = 0; p < meta.size(0); ++p)
    ps.push_back({m[p][0], m[p][1], m[p][2], m[p][3], m[p][4], m[p][5], m[p][6], m[p][7],
                  m[p][8]});
  return ps;
}

template <typename S>
inline void build_filter(const Piece& p, const S* y, const int64_t* nb, const int64_t* nak,
                         const S* nv, S* T) {
  std::fill(T, T + p.A * p.K, S(0));
  for (int64_t n = p.nnz0; n < p.nnz1; ++n) T[nak[n]] += y[nb[n]] * nv[n];
}

// edge id of the idx-th edge in centre order
inline int64_t edge_at(const int64_t* order, int64_t idx) { return order ? order[idx] : idx; }

template <typename S>
void forward_impl(const at::Tensor& h, const at::Tensor& sh, const std::vector<at::Tensor>& w,
                  const at::Tensor& src, const at::Tensor& order, const at::Tensor& rowptr,
                  const std::vector<Piece>& ps, const at::Tensor& nnz_b,
                  const at::Tensor& nnz_ak, const at::Tensor& nnz_v, const at::Tensor& tk,
                  at::Tensor& out) {
  const int64_t N = rowptr.size(0) - 1, Dh = h.size(1), B = sh.size(1), Do = out.size(1);
  const S* hp = h.data_ptr<S>();
  const S* yp = sh.data_ptr<S>();
  const int64_t* srcp = src.data_ptr<int64_t>();
  const int64_t* ord = order.numel() ? order.data_ptr<int64_t>() : nullptr;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* nb = nnz_b.data_ptr<int64_t>();
  const int64_t* nak = nnz_ak.data_ptr<int64_t>();
  const S* nv = nnz_v.data_ptr<S>();
  const int64_t* tkp = tk.data_ptr<int64_t>();
  std::vector<const S*> wp;
  for (auto& t : w) wp.push_back(t.data_ptr<S>());
  S* op = out.data_ptr<S>();
  int64_t max_ak = 0, max_k = 0;
  for (auto& p : ps) max_ak = std::max(max_ak, p.A * p.K), max_k = std::max(max_k, p.K);

#pragma omp parallel num_threads(at::get_num_threads())
  {
    std::vector<S> Tbuf(max_ak), Ubuf(max_k);
    S* T = Tbuf.data();
    S* U = Ubuf.data();
#pragma omp for schedule(dynamic, 32)
    for (int64_t i = 0; i < N; ++i) {
      S* oi = op + i * Do;
      for (int64_t idx = rp[i]; idx < rp[i + 1]; ++idx) {
        const int64_t e = edge_at(ord, idx), j = srcp[e];
        const S* y = yp + e * B;
        for (size_t q = 0; q < ps.size(); ++q) {
          const Piece& p = ps[q];
          const int64_t A = p.A, K = p.K;
          build_filter(p, y, nb, nak, nv, T);
          const S* hj = hp + j * Dh + p.in_start;
          const S* we = wp[q] + e * p.C * p.ntrip;
          const int64_t* tkq = tkp + p.tk0;
          S* o = oi + p.out_start;
          for (int64_t c = 0; c < p.C; ++c, o += K, hj += A, we += p.ntrip) {
            std::fill(U, U + K, S(0));
            for (int64_t a = 0; a < A; ++a) {
              const S hv = hj[a];
              const S* Ta = T + a * K;
#pragma omp simd
              for (int64_t k = 0; k < K; ++k) U[k] += hv * Ta[k];
            }
            for (int64_t t = 0; t < p.ntrip; ++t) {
              const S wv = we[t];
              for (int64_t k = tkq[t]; k < tkq[t + 1]; ++k) o[k] += wv * U[k];
            }
          }
        }
      }
    }
  }
}

template <typename S>
void backward_impl(const at::Tensor& h, const at::Tensor& sh, const std::vector<at::Tensor>& w,
                   const at::Tensor& src, const at::Tensor& order, const at::Tensor& rowptr,
                   const std::vector<Piece>& ps, const at::Tensor& nnz_b,
                   const at::Tensor& nnz_ak, const at::Tensor& nnz_v, const at::Tensor& tk,
                   const at::Tensor& gout, at::Tensor& gh, at::Tensor& gsh,
                   std::vector<at::Tensor>& gw, bool need_h, bool need_sh, bool need_w) {
  const int64_t N = rowptr.size(0) - 1, Dh = h.size(1), B = sh.size(1), Do = gout.size(1);
  const S* hp = h.data_ptr<S>();
  const S* yp = sh.data_ptr<S>();
  const int64_t* srcp = src.data_ptr<int64_t>();
  const int64_t* ord = order.numel() ? order.data_ptr<int64_t>() : nullptr;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* nb = nnz_b.data_ptr<int64_t>();
  const int64_t* nak = nnz_ak.data_ptr<int64_t>();
  const S* nv = nnz_v.data_ptr<S>();
  const int64_t* tkp = tk.data_ptr<int64_t>();
  const S* gp = gout.data_ptr<S>();
  std::vector<const S*> wp;
  std::vector<S*> gwp;
  for (size_t q = 0; q < w.size(); ++q) {
    wp.push_back(w[q].data_ptr<S>());
    gwp.push_back(need_w ? gw[q].data_ptr<S>() : nullptr);
  }
  S* ghp = need_h ? gh.data_ptr<S>() : nullptr;  // (threads, N, Dh)
  S* gyp = need_sh ? gsh.data_ptr<S>() : nullptr;
  int64_t max_ak = 0, max_k = 0;
  for (auto& p : ps) max_ak = std::max(max_ak, p.A * p.K), max_k = std::max(max_k, p.K);
  const int n_threads = need_h ? static_cast<int>(gh.size(0)) : at::get_num_threads();

#pragma omp parallel num_threads(n_threads)
  {
    std::vector<S> Tbuf(max_ak), GTbuf(max_ak), Ubuf(max_k), WGbuf(max_k);
    S *T = Tbuf.data(), *GT = GTbuf.data(), *U = Ubuf.data(), *WG = WGbuf.data();
    S* ght = need_h ? ghp + static_cast<int64_t>(omp_get_thread_num()) * N * Dh : nullptr;
#pragma omp for schedule(dynamic, 32)
    for (int64_t i = 0; i < N; ++i) {
      const S* gi = gp + i * Do;
      for (int64_t idx = rp[i]; idx < rp[i + 1]; ++idx) {
        const int64_t e = edge_at(ord, idx), j = srcp[e];
        const S* y = yp + e * B;
        for (size_t q = 0; q < ps.size(); ++q) {
          const Piece& p = ps[q];
          const int64_t A = p.A, K = p.K;
          build_filter(p, y, nb, nak, nv, T);
          if (need_sh) std::fill(GT, GT + A * K, S(0));
          const S* hj = hp + j * Dh + p.in_start;
          const S* we = wp[q] + e * p.C * p.ntrip;
          S* gwe = need_w ? gwp[q] + e * p.C * p.ntrip : nullptr;
          S* ghj = need_h ? ght + j * Dh + p.in_start : nullptr;
          const int64_t* tkq = tkp + p.tk0;
          const S* g = gi + p.out_start;
          for (int64_t c = 0; c < p.C; ++c, g += K, hj += A, we += p.ntrip) {
            if (need_w) {  // dL/dw[c, t] = sum_{k in t} g[c, k] U[c, k]
              std::fill(U, U + K, S(0));
              for (int64_t a = 0; a < A; ++a) {
                const S hv = hj[a];
                const S* Ta = T + a * K;
#pragma omp simd
                for (int64_t k = 0; k < K; ++k) U[k] += hv * Ta[k];
              }
              for (int64_t t = 0; t < p.ntrip; ++t) {
                S acc = 0;
                for (int64_t k = tkq[t]; k < tkq[t + 1]; ++k) acc += g[k] * U[k];
                gwe[c * p.ntrip + t] = acc;
              }
            }
            if (!(need_h || need_sh)) continue;
            for (int64_t t = 0; t < p.ntrip; ++t) {  // (w g)[c, k]
              const S wv = we[t];
              for (int64_t k = tkq[t]; k < tkq[t + 1]; ++k) WG[k] = wv * g[k];
            }
            if (need_h) {  // dL/dh_j[c, a] = sum_k (w g)[c, k] T[a, k]
              S* ghc = ghj + c * A;
              for (int64_t a = 0; a < A; ++a) {
                const S* Ta = T + a * K;
                S acc = 0;
#pragma omp simd reduction(+ : acc)
                for (int64_t k = 0; k < K; ++k) acc += WG[k] * Ta[k];
                ghc[a] += acc;
              }
            }
            if (need_sh) {  // dL/dT[a, k] = sum_c h_j[c, a] (w g)[c, k]
              for (int64_t a = 0; a < A; ++a) {
                const S hv = hj[a];
                S* GTa = GT + a * K;
#pragma omp simd
                for (int64_t k = 0; k < K; ++k) GTa[k] += hv * WG[k];
              }
            }
          }
          if (need_sh) {  // dL/dY[b] = sum M[b, a, k] dL/dT[a, k]
            S* gy = gyp + e * B;
            for (int64_t n = p.nnz0; n < p.nnz1; ++n) gy[nb[n]] += nv[n] * GT[nak[n]];
          }
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

at::Tensor fused_forward(at::Tensor h, at::Tensor sh, std::vector<at::Tensor> w, at::Tensor src,
                         at::Tensor order, at::Tensor rowptr, at::Tensor meta, at::Tensor nnz_b,
                         at::Tensor nnz_ak, at::Tensor nnz_v, at::Tensor tk, int64_t out_dim) {
  check_inputs(h, sh, w);
  auto ps = read_meta(meta);
  auto out = at::zeros({rowptr.size(0) - 1, out_dim}, h.options());
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_forward", [&] {
    forward_impl<scalar_t>(h, sh, w, src, order, rowptr, ps, nnz_b, nnz_ak, nnz_v, tk, out);
  });
  return out;
}

std::vector<at::Tensor> fused_backward(at::Tensor h, at::Tensor sh, std::vector<at::Tensor> w,
                                       at::Tensor src, at::Tensor order, at::Tensor rowptr,
                                       at::Tensor meta, at::Tensor nnz_b, at::Tensor nnz_ak,
                                       at::Tensor nnz_v, at::Tensor tk, at::Tensor gout,
                                       bool need_h, bool need_sh, bool need_w) {
  check_inputs(h, sh, w);
  TORCH_CHECK(gout.is_contiguous(), "fused conv: contiguous output gradient expected");
  auto ps = read_meta(meta);
  const int64_t n_threads = at::get_num_threads();
  at::Tensor gh = need_h ? at::zeros({n_threads, h.size(0), h.size(1)}, h.options()) : at::Tensor();
  at::Tensor gsh = need_sh ? at::zeros_like(sh) : at::Tensor();
  std::vector<at::Tensor> gw;
  for (auto& t : w) gw.push_back(need_w ? at::empty_like(t) : at::Tensor());
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_backward", [&] {
    backward_impl<scalar_t>(h, sh, w, src, order, rowptr, ps, nnz_b, nnz_ak, nnz_v, tk, gout, gh,
                            gsh, gw, need_h, need_sh, need_w);
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
