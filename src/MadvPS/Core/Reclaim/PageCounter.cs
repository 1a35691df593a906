using System;
using System.IO;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>Where the pages of a range are: resident, in swap, or neither.</summary>
internal readonly record struct PageCounts(long PresentBytes, long SwappedBytes, long AbsentBytes);

/// <summary>
/// Counts where the pages of a range of one process are. The reclaim loop needs only this; the
/// page-residency core (Get-MemoryPage) can stand in for <see cref="PagemapCounter"/>.
/// </summary>
internal interface IPageCounter
{
    PageCounts Count(ulong start, ulong end);
}

/// <summary>
/// A minimal pagemap reader: one 64-bit word per page of /proc/PID/pagemap, read with pread
/// through the process's /proc directory (so a reused PID is never read). Bit 63 is "present in
/// RAM", bit 62 "swapped" (fs/proc/task_mmu.c, PM_PRESENT and PM_SWAP; checked on 6.18). A page
/// never touched, or dropped from the page cache, is neither.
/// </summary>
internal sealed class PagemapCounter : IPageCounter, IDisposable
{
    private const ulong Present = 1UL << 63;
    private const ulong Swapped = 1UL << 62;
    private const int WordsPerRead = 8192;

    private readonly FileStream _pagemap;
    private readonly int _processId;
    private readonly byte[] _buffer = new byte[WordsPerRead * 8];

    public PagemapCounter(ProcDirectory directory)
    {
        _processId = directory.ProcessId;
        _pagemap = directory.OpenRead("pagemap");
    }

    public static int PageSize { get; } = Environment.SystemPageSize;

    public PageCounts Count(ulong start, ulong end)
    {
        long present = 0, swapped = 0, absent = 0;
        ulong page = start / (ulong)PageSize;
        ulong last = (end + (ulong)PageSize - 1) / (ulong)PageSize;
        while (page < last)
        {
            int words = (int)Math.Min((ulong)WordsPerRead, last - page);
            int read;
            try
            {
                read = RandomAccess.Read(_pagemap.SafeFileHandle, _buffer.AsSpan(0, words * 8), (long)(page * 8));
            }
            catch (IOException e) when (e.HResult is (int)Errno.ESRCH or (int)Errno.ENOENT)
            {
                throw new ProcessAccessException(ProcessAccessFailure.Exited, _processId, $"Process {_processId} has exited.", e);
            }

            if (read < 8)
            {
                // The address space is gone (a zombie reads as empty).
                throw new ProcessAccessException(ProcessAccessFailure.Exited, _processId, $"Process {_processId} has exited.");
            }

            (long p, long s) = Tally(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(_buffer.AsSpan(0, read & ~7)));
            present += p;
            swapped += s;
            absent += read / 8 - p - s;
            page += (ulong)(read / 8);
        }

        return new PageCounts(present * PageSize, swapped * PageSize, absent * PageSize);
    }

    /// <summary>Present and swapped pages among pagemap words.</summary>
    internal static (long Present, long Swapped) Tally(ReadOnlySpan<ulong> words)
    {
        long present = 0, swapped = 0;
        foreach (ulong word in words)
        {
            if ((word & Present) != 0)
            {
                present++;
            }
            else if ((word & Swapped) != 0)
            {
                swapped++;
            }
        }

        return (present, swapped);
    }

    public void Dispose() => _pagemap.Dispose();
}
