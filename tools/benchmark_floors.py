#!/usr/bin/env python3
"""The floor under each ONNX Runtime comparison target, from one BenchmarkDotNet run's CSV reports.

Every streaming step reads all the weights once; a B = 1 sequence reads W_hh once per time step (after one GEMM for
the input projection); a batch is bound by its flops. The floor = bytes / the read bandwidth measured by
ReadBandwidthBenchmarks (L2: the 288 KiB row, L3: the 4608 KiB row) + flops / the FMA peak of FmaPeakBenchmarks
(the best chain count), both at the widest vector width the machine has (the largest Bits in the reports; the
figures of every width are printed first). A target time (ONNX Runtime's median / the target ratio, issue 10's
targets) below the floor cannot be met by any implementation.

Usage: python3 tools/benchmark_floors.py DIR   (DIR holds the *-report.csv of OnnxRuntime{Step,Sequence,Batch},
ReadBandwidth and FmaPeak from the same run; prints a markdown table)
"""
import csv
import sys

R = sys.argv[1].rstrip('/') + '/SimdRnn.Benchmarks.'
def ns(v):
    v=v.replace(',','')
    num,unit=v.split()
    return float(num)*{'ns':1,'us':1e3,'μs':1e3,'ms':1e6,'s':1e9}[unit]
def rows(name): return [r for r in csv.DictReader(open(R+name+'-report.csv')) if r.get('Job')!='Dry']  # a --job Dry smoke adds Dry rows
read=rows('ReadBandwidthBenchmarks'); fma=rows('FmaPeakBenchmarks')
# Every width's figures, then the floors from the widest one.
for b in sorted({int(r['Bits']) for r in read}):
    rates=', '.join(f"{r['Kilobytes']} KiB {r['GB/s']} GB/s" for r in read if int(r['Bits'])==b)
    peaks=', '.join(f"{r['Method']} {r['GFLOP/s']} GFLOP/s" for r in fma if int(r['Bits'])==b)
    print(f"{b}-bit: read {rates}; FMA {peaks}")
widest=max(int(r['Bits']) for r in read)
bw={r['Kilobytes']:float(r['GB/s']) for r in read if int(r['Bits'])==widest}
peak=max(float(r['GFLOP/s']) for r in fma if int(r['Bits'])==max(int(x['Bits']) for x in fma))
L2,L3=bw['288'],bw['4608']
print(f"Floors at {widest} bits: read bandwidth L2 {L2} GB/s, L3 {L3} GB/s; FMA peak {peak} GFLOP/s\n")
G={'Gru':3,'Lstm':4}
out=[]
def get(name):
    d={}
    for r in rows(name):
        if r.get('Threads') not in (None, '', '1'): continue  # the batch's two-thread rows are compared elsewhere
        d[(r['Method'],r['Cell'],r.get('Size','64x128'))]=ns(r['Median'])
    return d
st=get('OnnxRuntimeStepBenchmarks'); sq=get('OnnxRuntimeSequenceBenchmarks'); bt=get('OnnxRuntimeBatchBenchmarks')
for cell in ['Gru','Lstm']:
    g=G[cell]; I,H=64,128
    b=(g*H*(I+H)+2*g*H)*4
    floor=b/L2  # ns (GB/s = B/ns)
    ort=st[('OnnxRuntime',cell,'64x128')]; ours=st[('SimdRnn',cell,'64x128')]
    out.append(('step',cell,'64→128',f'{b/1024:.0f} KiB of weights from L2',floor,ort,3,ours))
    for size,T in [('64x128',100),('512x512',100)]:
        I,H=map(int,size.split('x'))
        whh=g*H*H*4; rate=L2 if whh<=1024*1024 else L3
        proj=2*T*g*H*I/peak
        floor=T*whh/rate+proj
        ort=sq[('OnnxRuntime',cell,size)]; ours=sq[('SimdRnn',cell,size)]
        out.append(('sequence T=100',cell,f'{I}→{H}',f'100 × {whh/1024:.0f} KiB of W_hh from {"L2" if rate==L2 else "L3"} + input projection at the FMA peak',floor,ort,1.4 if H==128 else 1.15,ours))
    I,H,T,B=64,128,64,64
    fl=2*T*B*g*H*(I+H)
    floor=fl/peak
    ort=bt[('OnnxRuntime',cell,'64x128')]; ours=bt[('SimdRnn',cell,'64x128')]
    out.append(('batch T=64 B=64',cell,'64→128',f'{fl/1e6:.0f} MFLOP at the FMA peak',floor,ort,1.5,ours))
def f(v):
    return f'{v/1e3:.2f} µs' if v<1e6 else f'{v/1e6:.2f} ms'
print('| workload | cell | floor: what must be read or computed | floor | ONNX Runtime | target time (ORT / target) | SimdRnn | SimdRnn vs ORT | target possible? |')
print('|---|---|---|---:|---:|---:|---:|---:|---|')
for w,cell,sz,what,floor,ort,tgt,ours in out:
    tt=ort/tgt
    poss = f'no: target {tt/floor*100:.0f}% of the floor' if tt<floor else f'only at ≥ {floor/tt*100:.0f}% of the floor rate'
    print(f'| {w}, {sz} | {cell.upper()} | {what} | {f(floor)} | {f(ort)} | {f(tt)} ({tgt}×) | {f(ours)} | {ort/ours:.2f}× | {poss} |')
