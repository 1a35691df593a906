using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>struct cachestat_range (include/uapi/linux/mman.h, Linux 6.5).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CachestatRange
{
    public ulong Offset;
    /// <summary>0 means to the end of the file.</summary>
    public ulong Length;
}

/// <summary>struct cachestat: counts in pages.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CachestatCounts
{
    public ulong Cache;
    public ulong Dirty;
    public ulong Writeback;
    public ulong Evicted;
    public ulong RecentlyEvicted;
}

internal static partial class Libc
{
    /// <summary>
    /// cachestat's number: 451 on x86_64 and on every asm-generic architecture (aarch64 included),
    /// since syscalls added after 5.1 share one number everywhere but alpha and mips.
    /// </summary>
    internal const int SYS_cachestat = 451;

    // glibc 2.36 has no cachestat wrapper, so it goes through syscall(2), declared here with a
    // fixed arity: see FixedArityVariadicCallsAreSafe for why that is sound on x86_64 and aarch64.
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial nint syscall_cachestat(nint number, SafeFileHandle fd, CachestatRange* range, CachestatCounts* counts, nint flags);

    /// <summary>Whether this process can make the cachestat call at all (architecture, not kernel).</summary>
    internal static bool CachestatCallable => FixedArityVariadicCallsAreSafe;

    /// <summary>cachestat(fd, range, counts, 0); failed with ENOSYS before Linux 6.5 (or where it cannot be called).</summary>
    internal static unsafe SysResult Cachestat(SafeFileHandle fd, ulong offset, ulong length, out CachestatCounts counts)
    {
        if (!CachestatCallable)
        {
            counts = default;
            return SysResult.FromErrorNumber("cachestat", (int)Errno.ENOSYS);
        }

        CachestatRange range = new() { Offset = offset, Length = length };
        CachestatCounts result = default;
        SysResult rc = SysResult.FromReturn("cachestat", syscall_cachestat(SYS_cachestat, fd, &range, &result, 0));
        counts = result;
        return rc;
    }
}
