using System;
using System.Buffers;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>How to measure: cachestat with mincore as the fallback, or mincore only (tests force it).</summary>
internal enum CacheMeasureMethod
{
    Auto,
    Mincore,
}

/// <summary>The page cache of a range of a file, in bytes; the cachestat-only counts are null when mincore measured.</summary>
internal readonly record struct CacheFigures(long Cached, long? Dirty, long? Writeback, long? Evicted, long? RecentlyEvicted, CacheSource Source);

/// <summary>Measures a file's page cache with cachestat(2), or with mincore(2) where cachestat is missing or refused.</summary>
internal static class FileCacheMeter
{
    /// <summary>Pages a mincore window covers: 1 GiB of address space, a 256 KiB vector at 4 KiB pages.</summary>
    private const long MincoreWindowPages = 256 * 1024;

    private static volatile bool s_cachestatMissing = !Libc.CachestatCallable;

    public static long PageSize { get; } = Environment.SystemPageSize;

    /// <summary>Measures [offset, offset+length) of the file; length 0 means to the end of the file.</summary>
    public static CacheFigures Measure(CachedFile file, long offset = 0, long length = 0, CacheMeasureMethod method = CacheMeasureMethod.Auto)
    {
        if (method == CacheMeasureMethod.Auto && !s_cachestatMissing)
        {
            SysResult result = Libc.Cachestat(file.Handle, (ulong)offset, (ulong)length, out CachestatCounts counts);
            switch ((Errno)result.Errno)
            {
                case Errno.None:
                    return new CacheFigures(
                        Bytes(counts.Cache), Bytes(counts.Dirty), Bytes(counts.Writeback),
                        Bytes(counts.Evicted), Bytes(counts.RecentlyEvicted), CacheSource.Cachestat);
                case Errno.ENOSYS:
                    // Linux before 6.5 (or a seccomp filter that says ENOSYS): never ask again.
                    s_cachestatMissing = true;
                    break;
                case Errno.EOPNOTSUPP:
                    throw CachedFile.Hugetlbfs(file.Path);
                case Errno.EPERM:
                    // The kernel's visibility rule, or a seccomp filter or LSM that refuses the call.
                    // Only in the second case can mincore tell the truth, and the rule says which.
                    if (!PageCacheVisibility.CallerCanSee(file))
                    {
                        throw PageCacheVisibility.Hidden(file);
                    }

                    break;
                default:
                    throw new FileCacheException(FileCacheFailure.SystemCallFailed, file.Path, result.Errno) { SystemCall = result.Syscall };
            }
        }

        return MeasureWithMincore(file, offset, length);
    }

    /// <summary>
    /// Maps the range read-only and shared, a window at a time, and counts the pages mincore reports
    /// in the page cache. It can only say cached or not: no dirty, writeback or eviction counts.
    /// </summary>
    private static CacheFigures MeasureWithMincore(CachedFile file, long offset, long length)
    {
        if (!PageCacheVisibility.CallerCanSee(file))
        {
            // mincore would report every page as cached (FileCacheFacts.MincoreHidesSince).
            throw PageCacheVisibility.Hidden(file);
        }

        long filePages = FileCacheFacts.RoundUp(file.Size, PageSize) / PageSize;
        long firstPage = offset / PageSize;
        long endPage = length == 0 ? filePages : Math.Min(filePages, FileCacheFacts.RoundUp(offset + length, PageSize) / PageSize);
        long cachedPages = 0;
        byte[] vector = ArrayPool<byte>.Shared.Rent((int)Math.Min(MincoreWindowPages, Math.Max(1, endPage - firstPage)));
        try
        {
            for (long page = firstPage; page < endPage; page += MincoreWindowPages)
            {
                long pages = Math.Min(MincoreWindowPages, endPage - page);
                nuint bytes = (nuint)(pages * PageSize);
                IntPtr address;
                try
                {
                    address = Libc.MapReadOnly(file.Handle, page * PageSize, bytes, file.Path);
                }
                catch (LinuxErrorException e)
                {
                    throw new FileCacheException(FileCacheFailure.SystemCallFailed, file.Path, e.ErrorNumber, e) { SystemCall = e.Syscall };
                }

                try
                {
                    Span<byte> window = vector.AsSpan(0, (int)pages);
                    Libc.Mincore(address, bytes, window, file.Path);
                    foreach (byte b in window)
                    {
                        cachedPages += b & 1;
                    }
                }
                catch (LinuxErrorException e)
                {
                    throw new FileCacheException(FileCacheFailure.SystemCallFailed, file.Path, e.ErrorNumber, e) { SystemCall = e.Syscall };
                }
                finally
                {
                    Libc.Unmap(address, bytes);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(vector);
        }

        return new CacheFigures(cachedPages * PageSize, null, null, null, null, CacheSource.Mincore);
    }

    private static long Bytes(ulong pages) => (long)pages * PageSize;
}
