using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Interop;

[StructLayout(LayoutKind.Sequential)]
internal struct IoVec
{
    public nuint Base;
    public nuint Length;
}

internal static partial class Libc
{
    private static long s_processMadviseCalls;

    /// <summary>How many process_madvise calls this process has made; tests and benchmarks count with it.</summary>
    internal static long ProcessMadviseCalls => Interlocked.Read(ref s_processMadviseCalls);

    // process_madvise(2), Linux 5.10; glibc 2.36.
    [LibraryImport(Name, EntryPoint = "process_madvise", SetLastError = true)]
    private static unsafe partial nint process_madvise_raw(SafePidfdHandle pidfd, IoVec* iovec, nuint vlen, int advice, uint flags);

    /// <summary>The bytes advised as the value, or failed with the errno.</summary>
    internal static unsafe SysResult ProcessMadvise(SafePidfdHandle pidfd, ReadOnlySpan<IoVec> ranges, int advice)
    {
        Interlocked.Increment(ref s_processMadviseCalls);
        fixed (IoVec* first = ranges)
        {
            return SysResult.FromReturn("process_madvise", process_madvise_raw(pidfd, first, (nuint)ranges.Length, advice, 0));
        }
    }
}
