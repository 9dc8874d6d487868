//go:build amd64

#include "textflag.h"

// tailmask holds eight all-ones dwords followed by eight zero dwords; the eight dwords
// starting at byte 32-4n form a VMASKMOVPS mask that selects the first n floats.
// Masked-off lanes are neither read nor written, so tails never touch memory past the
// end of a slice.
DATA tailmask<>+0(SB)/8, $-1
DATA tailmask<>+8(SB)/8, $-1
DATA tailmask<>+16(SB)/8, $-1
DATA tailmask<>+24(SB)/8, $-1
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// LOADTAILMASK loads into Y15 the mask selecting the first CX&7 floats (uses AX, CX).
#define LOADTAILMASK \
	ANDQ    $7, CX;                \
	SHLQ    $2, CX;                \
	LEAQ    tailmask<>+32(SB), AX; \
	SUBQ    CX, AX;                \
	VMOVDQU (AX), Y15

// func dotBatchAVX2(q, rows []float32, dim int, out []float32)
//
// Same shape as dotBatchAVX512 with 8-float vectors: four rows per group sharing each
// query load, two accumulators per row (Y0-Y3, Y4-Y7), the next group prefetched, then
// single rows.
//
// Registers: SI query, DI first row of the group, BX/DX/R13 the other three rows,
// R8 dim during setup, then the next group's first row, R9 out, R10 rows left, R11 row
// stride in bytes, R12 number of 16-float blocks, R14 1 if an 8-float block follows
// them, Y15 the mask of the last dim%8 floats.
TEXT ·dotBatchAVX2(SB), NOSPLIT, $0-80
	MOVQ q_base+0(FP), SI
	MOVQ rows_base+24(FP), DI
	MOVQ dim+48(FP), R8
	MOVQ out_base+56(FP), R9
	MOVQ out_len+64(FP), R10
	MOVQ R8, R11
	SHLQ $2, R11
	MOVQ R8, CX
	LOADTAILMASK
	MOVQ R8, R12
	SHRQ $4, R12
	MOVQ R8, R14
	SHRQ $3, R14
	ANDQ $1, R14

b2_group4:
	CMPQ   R10, $4
	JB     b2_single
	LEAQ   (DI)(R11*1), BX
	LEAQ   (DI)(R11*2), DX
	LEAQ   (BX)(R11*2), R13
	LEAQ   (R13)(R11*1), R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	MOVQ   R12, CX
	TESTQ  CX, CX
	JZ     b2_g4_8

b2_g4_loop16:
	PREFETCHT0  (R8)(AX*4)
	PREFETCHT0  64(R8)(AX*4)
	PREFETCHT0  128(R8)(AX*4)
	PREFETCHT0  192(R8)(AX*4)
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     32(SI)(AX*1), Y9
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS (BX)(AX*1), Y8, Y1
	VFMADD231PS (DX)(AX*1), Y8, Y2
	VFMADD231PS (R13)(AX*1), Y8, Y3
	VFMADD231PS 32(DI)(AX*1), Y9, Y4
	VFMADD231PS 32(BX)(AX*1), Y9, Y5
	VFMADD231PS 32(DX)(AX*1), Y9, Y6
	VFMADD231PS 32(R13)(AX*1), Y9, Y7
	ADDQ        $64, AX
	DECQ        CX
	JNZ         b2_g4_loop16

b2_g4_8:
	TESTQ       R14, R14
	JZ          b2_g4_tail
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS (BX)(AX*1), Y8, Y1
	VFMADD231PS (DX)(AX*1), Y8, Y2
	VFMADD231PS (R13)(AX*1), Y8, Y3
	ADDQ        $32, AX

b2_g4_tail:
	VPTEST      Y15, Y15
	JZ          b2_g4_reduce
	VMASKMOVPS  (SI)(AX*1), Y15, Y8
	VMASKMOVPS  (DI)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y4
	VMASKMOVPS  (BX)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y5
	VMASKMOVPS  (DX)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y6
	VMASKMOVPS  (R13)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y7

b2_g4_reduce:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y0 // r0 01 23, r1 01 23 | r0 45 67, r1 45 67
	VHADDPS      Y3, Y2, Y2 // r2 ..., r3 ...
	VHADDPS      Y2, Y0, Y0 // r0 r1 r2 r3 (low half) | r0 r1 r2 r3 (high half)
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (R9)
	ADDQ         $16, R9
	LEAQ         (DI)(R11*4), DI
	SUBQ         $4, R10
	JMP          b2_group4

b2_single:
	TESTQ  R10, R10
	JZ     b2_done
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	XORQ   AX, AX
	MOVQ   R12, CX
	TESTQ  CX, CX
	JZ     b2_s_8

b2_s_loop16:
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     32(SI)(AX*1), Y9
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS 32(DI)(AX*1), Y9, Y4
	ADDQ        $64, AX
	DECQ        CX
	JNZ         b2_s_loop16

b2_s_8:
	TESTQ       R14, R14
	JZ          b2_s_tail
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DI)(AX*1), Y8, Y0
	ADDQ        $32, AX

b2_s_tail:
	VPTEST      Y15, Y15
	JZ          b2_s_reduce
	VMASKMOVPS  (SI)(AX*1), Y15, Y8
	VMASKMOVPS  (DI)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y4

b2_s_reduce:
	VADDPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, (R9)
	ADDQ         $4, R9
	ADDQ         R11, DI
	DECQ         R10
	JMP          b2_single

b2_done:
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

a2_loop32:
	CMPQ        CX, $32
	JB          a2_loop8
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         a2_loop32

a2_loop8:
	CMPQ        CX, $8
	JB          a2_tail
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         a2_loop8

a2_tail:
	TESTQ       CX, CX
	JZ          a2_done
	LOADTAILMASK
	VMASKMOVPS  (SI), Y15, Y2
	VMASKMOVPS  (DI), Y15, Y1
	VFMADD231PS Y2, Y0, Y1
	VMASKMOVPS  Y1, Y15, (DI)

a2_done:
	VZEROUPPER
	RET

// func dotInt8AVX2(a, b []int8) int32
TEXT ·dotInt8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORL  R8, R8

i2_loop32:
	CMPQ      CX, $32
	JB        i2_loop16
	VPMOVSXBW (SI), Y2
	VPMOVSXBW (DI), Y3
	VPMOVSXBW 16(SI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD  Y3, Y2, Y2
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y2, Y0, Y0
	VPADDD    Y4, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	JMP       i2_loop32

i2_loop16:
	CMPQ      CX, $16
	JB        i2_tail
	VPMOVSXBW (SI), Y2
	VPMOVSXBW (DI), Y3
	VPMADDWD  Y3, Y2, Y2
	VPADDD    Y2, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $16, CX

i2_tail:
	TESTQ   CX, CX
	JZ      i2_reduce
	MOVBLSX (SI), AX
	MOVBLSX (DI), DX
	IMULL   DX, AX
	ADDL    AX, R8
	INCQ    SI
	INCQ    DI
	DECQ    CX
	JMP     i2_tail

i2_reduce:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	ADDL         R8, AX
	MOVL         AX, ret+48(FP)
	VZEROUPPER
	RET

// HSUMPS8 sums the 8 float32 lanes of Y into the low lane of X (the same register),
// with TX as scratch.
#define HSUMPS8(Y, X, TX) \
	VEXTRACTF128 $1, Y, TX; \
	VADDPS       TX, X, X;  \
	VMOVHLPS     X, X, TX;  \
	VADDPS       TX, X, X;  \
	VMOVSHDUP    X, TX;     \
	VADDSS       TX, X, X

// func cosineSumsAVX2(a, b []float32) (dot, aa, bb float32)
TEXT ·cosineSumsAVX2(SB), NOSPLIT, $0-60
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0 // a·b
	VXORPS Y1, Y1, Y1 // a·a
	VXORPS Y2, Y2, Y2 // b·b
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5

c2_loop16:
	CMPQ        CX, $16
	JB          c2_loop8
	VMOVUPS     (SI), Y6
	VMOVUPS     (DI), Y7
	VMOVUPS     32(SI), Y8
	VMOVUPS     32(DI), Y9
	VFMADD231PS Y7, Y6, Y0
	VFMADD231PS Y6, Y6, Y1
	VFMADD231PS Y7, Y7, Y2
	VFMADD231PS Y9, Y8, Y3
	VFMADD231PS Y8, Y8, Y4
	VFMADD231PS Y9, Y9, Y5
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         c2_loop16

c2_loop8:
	CMPQ        CX, $8
	JB          c2_tail
	VMOVUPS     (SI), Y6
	VMOVUPS     (DI), Y7
	VFMADD231PS Y7, Y6, Y0
	VFMADD231PS Y6, Y6, Y1
	VFMADD231PS Y7, Y7, Y2
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

c2_tail:
	TESTQ       CX, CX
	JZ          c2_reduce
	LOADTAILMASK
	VMASKMOVPS  (SI), Y15, Y6
	VMASKMOVPS  (DI), Y15, Y7
	VFMADD231PS Y7, Y6, Y0
	VFMADD231PS Y6, Y6, Y1
	VFMADD231PS Y7, Y7, Y2

c2_reduce:
	VADDPS Y3, Y0, Y0
	VADDPS Y4, Y1, Y1
	VADDPS Y5, Y2, Y2
	HSUMPS8(Y0, X0, X6)
	HSUMPS8(Y1, X1, X6)
	HSUMPS8(Y2, X2, X6)
	VMOVSS X0, dot+48(FP)
	VMOVSS X1, aa+52(FP)
	VMOVSS X2, bb+56(FP)
	VZEROUPPER
	RET
