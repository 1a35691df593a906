using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// /proc/PID/pagemap of one process, opened through its /proc directory (so a reused PID is never
/// read), turned into runs of adjacent pages in the same state. Memory is flat: one batch of
/// page_regions and one window of pagemap words, whatever the size of the range.
/// </summary>
/// <remarks>
/// PAGEMAP_SCAN (Linux 6.7) is asked only for present and swapped pages; everything between the
/// regions it returns is absent, so an untouched 128 TiB reservation is one call and one run. The
/// pagemap words of the reported pages are read as well, for what the ioctl has no category for
/// (exclusively mapped, bit 56; guard regions, bit 58, which the ioctl reports as swapped). Without
/// the ioctl, the words of the whole range are read, 256 KiB at a time; words cannot tell a huge
/// page or the zero page, so Huge and ZeroPage are false there.
/// PAGEMAP_SCAN walks a process that has exited as an empty address space (all absent), while a
/// pagemap read holds a reference on the address space (mmget) and returns nothing once it is
/// gone. So every batch ends with a read (the words of what the scan reported, or one word after a
/// scan that reported nothing): a batch whose read returned words saw a live process, and one
/// whose read returned nothing is an exit (Exited), never a run of Absent pages.
/// </remarks>
internal sealed partial class PagemapReader : IDisposable
{
    private const int RegionBatch = 4096;
    /// <summary>Pages of words read at a time (256 KiB of words).</summary>
    internal const int WordWindow = 32768;
    // Reported regions closer than this many pages share one read of words (a pread costs about as
    // much as copying 4 KiB of words).
    private const ulong JoinGapPages = 512;
    private const ulong ScanReturned = Libc.PAGE_IS_PRESENT | Libc.PAGE_IS_SWAPPED | Libc.PAGE_IS_FILE | Libc.PAGE_IS_PFNZERO | Libc.PAGE_IS_HUGE;

    private static readonly int s_pageShift = System.Numerics.BitOperations.Log2((uint)Environment.SystemPageSize);

    private readonly ProcDirectory _directory;
    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly ulong[] _words = new ulong[WordWindow];
    private readonly PageRegion[]? _regions;
    private readonly List<PageRun> _batch = new();
    private ulong _windowStart;
    private ulong _windowEnd;

    private PagemapReader(ProcDirectory directory, FileStream stream, PageSource source)
    {
        _directory = directory;
        _stream = stream;
        _handle = stream.SafeFileHandle;
        Source = source;
        _regions = source == PageSource.PagemapScan ? new PageRegion[RegionBatch] : null;
    }

    public PageSource Source { get; }
    public int ProcessId => _directory.ProcessId;
    public static ulong PageSize => 1UL << s_pageShift;

    /// <summary>
    /// Opens pagemap through <paramref name="directory"/> (which stays the caller's). The kernel
    /// checks ptrace read access at open: PermissionDenied otherwise. <paramref name="source"/>
    /// null takes PAGEMAP_SCAN where the kernel answers it; naming one forces it (tests, bench).
    /// </summary>
    public static PagemapReader Open(ProcDirectory directory, PageSource? source = null)
    {
        int pid = directory.ProcessId;
        FileStream stream;
        try
        {
            stream = directory.OpenRead("pagemap");
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw new ProcessAccessException(ProcessAccessFailure.PermissionDenied, pid, e) { Activity = ProcessActivity.ReadingPages, File = "pagemap", Ptrace = KernelInfo.Ptrace };
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw new ProcessAccessException(ProcessAccessFailure.Exited, pid, e) { Activity = ProcessActivity.ReadingPages };
        }

        try
        {
            bool scans = ScanAnswers(stream.SafeFileHandle);
            if (source == PageSource.PagemapScan && !scans)
            {
                throw new LinuxErrorException("ioctl(PAGEMAP_SCAN)", (int)Errno.ENOTTY, $"/proc/{pid}/pagemap (the ioctl needs Linux 6.7)");
            }

            return new PagemapReader(directory, stream, source ?? (scans ? PageSource.PagemapScan : PageSource.PagemapRead));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the kernel answers PAGEMAP_SCAN: an empty walk (start = end = 0) returns 0, and ENOTTY before 6.7.</summary>
    private static bool ScanAnswers(SafeFileHandle pagemap)
    {
        PmScanArg probe = default;
        return !Libc.PagemapScan(pagemap, ref probe).Failed;
    }

    /// <summary>[start, start+length) widened to whole pages; a range that wraps past 2^64 is a PageRangeException.</summary>
    private (ulong Position, ulong End) PageAligned(ulong start, ulong length)
    {
        ulong mask = PageSize - 1;
        ulong end = start + length;
        if (end < start)
        {
            throw new PageRangeException(start, length, PageRangeProblem.Wraps);
        }

        return (start & ~mask, (end + mask) & ~mask);
    }

    /// <summary>
    /// The runs of [start, start + length), widened to whole pages, in address order; adjacent pages
    /// in the same state with the same flags are one run. Pages outside any mapping are Absent.
    /// Errors: ProcessAccessException (Exited) after the runs before the exit;
    /// PageRangeException for a range past the end of the user address space.
    /// </summary>
    public IEnumerable<PageRun> Runs(ulong start, ulong length)
    {
        (ulong position, ulong end) = PageAligned(start, length);
        PageRun pending = default;
        bool hasPending = false;
        while (position < end)
        {
            _batch.Clear();
            // Each batch proves the process was alive through it (see LoadWords), so no run of an
            // address space torn down by an exit is handed out as Absent.
            position = Source == PageSource.PagemapScan ? ScanBatch(position, end) : ReadBatch(position, end);
            foreach (PageRun run in _batch)
            {
                if (hasPending && pending.Joins(run))
                {
                    pending = pending with { Length = pending.Length + run.Length };
                    continue;
                }

                if (hasPending)
                {
                    yield return pending;
                }

                pending = run;
                hasPending = true;
            }
        }

        if (hasPending)
        {
            yield return pending;
        }
    }

    // pagemap words of [position, position + WordWindow pages), decoded into runs.
    private ulong ReadBatch(ulong position, ulong end)
    {
        int pages = (int)Math.Min((ulong)WordWindow, (end - position) >> s_pageShift);
        LoadWords(position, pages);
        ulong key = _words[0] & PagemapWord.RunBits;
        int runStart = 0;
        for (int i = 1; i < pages; i++)
        {
            ulong k = _words[i] & PagemapWord.RunBits;
            if (k != key)
            {
                _batch.Add(PagemapWord.RunOf(_words[runStart], position + ((ulong)runStart << s_pageShift), (ulong)(i - runStart) << s_pageShift));
                runStart = i;
                key = k;
            }
        }

        _batch.Add(PagemapWord.RunOf(_words[runStart], position + ((ulong)runStart << s_pageShift), (ulong)(pages - runStart) << s_pageShift));
        return position + ((ulong)pages << s_pageShift);
    }

    // One PAGEMAP_SCAN call from position: up to RegionBatch regions of present or swapped pages,
    // the gaps between them absent, each region split where its words' exclusive or guard bit changes.
    private unsafe ulong ScanBatch(ulong position, ulong end)
    {
        PmScanArg arg = new()
        {
            Start = position,
            End = end,
            VecLength = RegionBatch,
            CategoryAnyOfMask = Libc.PAGE_IS_PRESENT | Libc.PAGE_IS_SWAPPED,
            ReturnMask = ScanReturned,
        };
        long count;
        int errno;
        fixed (PageRegion* regions = _regions)
        {
            arg.Vec = (ulong)regions;
            SysResult scan = Libc.PagemapScan(_handle, ref arg);
            count = scan.Failed ? -1 : scan.Value;
            errno = scan.Errno;
        }

        if (count < 0)
        {
            throw ScanFailed(position, end, errno);
        }

        if (count == 0)
        {
            ProveAlive(position);
        }

        // The kernel sets walk_end only where a walk stops early (its 512-region bounce buffer or
        // our vector full), and does not move it when a later pass of the same call finishes: a
        // call that filled fewer regions than asked walked to the end, whatever walk_end says
        // (seen on 6.18; ScanAndReadGiveTheSameRuns fails without this).
        ulong walkEnd = count < RegionBatch ? end : Math.Max(arg.WalkEnd, count > 0 ? _regions![count - 1].End : 0);
        if (walkEnd <= position || walkEnd > end)
        {
            throw new InvalidOperationException($"PAGEMAP_SCAN on /proc/{ProcessId}/pagemap stopped at 0x{walkEnd:x}, outside 0x{position:x}-0x{end:x}.");
        }

        _windowStart = _windowEnd = 0;
        ulong cursor = position;
        for (int i = 0; i < count; i++)
        {
            PageRegion region = _regions![i];
            if (region.Start > cursor)
            {
                _batch.Add(new PageRun(cursor, region.Start - cursor, PageState.Absent, false, false, false, false));
            }

            AddRegion(region, i, (int)count);
            cursor = region.End;
        }

        if (walkEnd > cursor)
        {
            _batch.Add(new PageRun(cursor, walkEnd - cursor, PageState.Absent, false, false, false, false));
        }

        return walkEnd;
    }

    private void AddRegion(in PageRegion region, int index, int count)
    {
        ulong categories = region.Categories;
        bool present = (categories & Libc.PAGE_IS_PRESENT) != 0;
        bool file = (categories & Libc.PAGE_IS_FILE) != 0;
        bool huge = (categories & Libc.PAGE_IS_HUGE) != 0;
        bool zero = (categories & Libc.PAGE_IS_PFNZERO) != 0;
        PageState state = present ? PageState.Resident : PageState.Swapped;
        ulong address = region.Start;
        while (address < region.End)
        {
            if (address < _windowStart || address >= _windowEnd)
            {
                LoadWindow(address, index, count);
            }

            ulong stop = Math.Min(region.End, _windowEnd);
            int first = (int)((address - _windowStart) >> s_pageShift);
            int last = (int)((stop - _windowStart) >> s_pageShift);
            // What the words add: Exclusive for present pages, Guard (absent) for swapped ones.
            ulong bit = present ? PagemapWord.Exclusive : PagemapWord.Guard;
            int runStart = first;
            ulong key = _words[first] & bit;
            for (int p = first + 1; p <= last; p++)
            {
                if (p < last && (_words[p] & bit) == key)
                {
                    continue;
                }

                ulong runAddress = _windowStart + ((ulong)runStart << s_pageShift);
                ulong runLength = (ulong)(p - runStart) << s_pageShift;
                _batch.Add(present
                    ? new PageRun(runAddress, runLength, state, key != 0, file, huge, zero)
                    : key != 0
                        ? new PageRun(runAddress, runLength, PageState.Absent, false, false, false, false)
                        : new PageRun(runAddress, runLength, state, false, file, huge, false));
                if (p < last)
                {
                    runStart = p;
                    key = _words[p] & bit;
                }
            }

            address = stop;
        }
    }

    // Loads the words from address over the regions that follow it while they are close together.
    private void LoadWindow(ulong address, int index, int count)
    {
        ulong limit = address + ((ulong)WordWindow << s_pageShift);
        ulong windowEnd = Math.Min(_regions![index].End, limit);
        for (int j = index + 1; j < count && windowEnd < limit; j++)
        {
            PageRegion next = _regions[j];
            if (((next.Start - windowEnd) >> s_pageShift) > JoinGapPages)
            {
                break;
            }

            windowEnd = Math.Min(next.End, limit);
        }

        LoadWords(address, (int)((windowEnd - address) >> s_pageShift));
        _windowStart = address;
        _windowEnd = windowEnd;
    }

    private void LoadWords(ulong address, int pages)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(_words.AsSpan(0, pages));
        long offset = (long)((address >> s_pageShift) * sizeof(ulong));
        int done = 0;
        while (done < bytes.Length)
        {
            int n;
            try
            {
                n = RandomAccess.Read(_handle, bytes[done..], offset + done);
            }
            catch (IOException e) when (!_directory.IsAlive())
            {
                throw Exited(address, e);
            }

            if (n == 0)
            {
                // pagemap_read returns nothing once the address space is gone, and nothing past
                // the end of the user address space.
                if (!_directory.IsAlive())
                {
                    throw Exited(address);
                }

                ulong at = address + ((ulong)(done / sizeof(ulong)) << s_pageShift);
                throw new PageRangeException(at, (ulong)(bytes.Length - done) / sizeof(ulong) << s_pageShift, PageRangeProblem.OutsideUserSpaceOrReplaced);
            }

            done += n;
        }
    }

    private Exception ScanFailed(ulong position, ulong end, int errno)
    {
        if (errno == (int)Errno.EFAULT)
        {
            return new PageRangeException(position, end - position, PageRangeProblem.OutsideUserSpace);
        }

        var error = new LinuxErrorException("ioctl(PAGEMAP_SCAN)", errno, $"/proc/{ProcessId}/pagemap at 0x{position:x}");
        // ESRCH once the process is reaped.
        return _directory.IsAlive() ? error : Exited(position, error);
    }

    // A pagemap read takes a reference on the address space for its length (mmget), and returns
    // nothing once it is gone: one word read after a walk proves the walk saw a live process.
    private void ProveAlive(ulong address)
    {
        Span<byte> word = stackalloc byte[sizeof(ulong)];
        int n;
        try
        {
            n = RandomAccess.Read(_handle, word, (long)((address >> s_pageShift) * sizeof(ulong)));
        }
        catch (IOException e) when (!_directory.IsAlive())
        {
            throw Exited(address, e);
        }

        if (n == 0)
        {
            throw _directory.IsAlive()
                ? new PageRangeException(address, PageSize, PageRangeProblem.AddressSpaceReplaced)
                : Exited(address);
        }
    }

    private ProcessAccessException Exited(ulong address, Exception? inner = null) =>
        new(ProcessAccessFailure.Exited, ProcessId, inner) { Activity = ProcessActivity.ReadingPages, Address = address };

    public void Dispose() => _stream.Dispose();
}
