import os, time, sys
os.environ['OPENBLAS_NUM_THREADS']='1'
import numpy as np
src=np.ones(16*1024*1024,dtype=np.float32); dst=np.empty_like(src)
np.copyto(dst,src)
t=time.perf_counter(); n=0
while time.perf_counter()-t<0.3: np.copyto(dst,src); n+=1
print('%.2f'%(n*2*src.nbytes/(time.perf_counter()-t)/1e9))
