using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>What one advice did to one file's range.</summary>
internal sealed record FileAdviceOutcome(
    long Offset, long Length, CacheFigures Before, CacheFigures After, bool Flushed, int Calls, string Note);

/// <summary>Gives posix_fadvise advice to a range of a file and measures its page cache before and after.</summary>
internal static class FileAdvisor
{
    /// <summary>The figures of a file whose page cache the caller may not see: nothing measured.</summary>
    public static CacheFigures NotVisible { get; } = new(0, null, null, null, null, CacheSource.NotVisible);

    /// <summary>The range in bytes: length 0 means to the end of the file.</summary>
    public static (long Offset, long Length) Range(CachedFile file, long offset, long length) =>
        (offset, length == 0 ? Math.Max(0, file.Size - offset) : length);

    /// <summary>
    /// Gives the advice. With <paramref name="flush"/> the file's dirty pages are written first
    /// (fdatasync), so that DontNeed can drop all of them.
    /// </summary>
    /// <param name="dataExtents">For WillNeed: the extents to read (FileExtents.Data), so that holes are not read; null reads the whole range.</param>
    /// <param name="progress">For WillNeed: called with the bytes asked for so far and the total, after each readahead window.</param>
    public static FileAdviceOutcome Advise(CachedFile file, FileAdvice advice, long offset, long length, bool flush,
        CacheFigures? before = null, CacheMeasureMethod method = CacheMeasureMethod.Auto,
        List<(long Start, long Length)>? dataExtents = null, Action<long, long>? progress = null)
    {
        if (offset < 0 || length < 0)
        {
            throw new ArgumentOutOfRangeException(offset < 0 ? nameof(offset) : nameof(length), "Offset and length cannot be negative.");
        }

        CacheFigures measuredBefore = before ?? FileCacheMeter.Measure(file, offset, length, method);
        if (flush)
        {
            try
            {
                Libc.Fdatasync(file.Handle, file.Path);
            }
            catch (LinuxErrorException e)
            {
                throw new FileCacheException(FileCacheFailure.FlushFailed, file.Path, e.ErrorNumber, e) { SystemCall = e.Syscall };
            }
        }

        int value = FileCacheFacts.FadviseValue(advice, RuntimeInformation.ProcessArchitecture);
        int calls = 0;
        if (advice == FileAdvice.WillNeed)
        {
            long end = length == 0 ? file.Size : Math.Min(file.Size, offset + length);
            long step = FileCacheFacts.ReadaheadWindowBytes(file.DeviceMajor, file.DeviceMinor);
            List<(long Start, long Length)> extents = dataExtents ?? new() { (offset, Math.Max(0, end - offset)) };
            long total = FileExtents.Bytes(extents);
            long done = 0;
            foreach ((long start, long extentLength) in extents)
            {
                long extentEnd = Math.Min(end, start + extentLength);
                for (long at = start; at < extentEnd; at += step)
                {
                    long piece = Math.Min(step, extentEnd - at);
                    Fadvise(file, at, piece, value, advice);
                    calls++;
                    done += piece;
                    if ((calls & 1023) == 0)
                    {
                        progress?.Invoke(done, total);
                    }
                }
            }
        }
        else
        {
            Fadvise(file, offset, length, value, advice);
            calls++;
        }

        // posix_fadvise needs only a readable descriptor; the page cache's visibility decides what
        // can be measured, not what can be advised.
        CacheFigures after = measuredBefore.Source == CacheSource.NotVisible ? NotVisible : FileCacheMeter.Measure(file, offset, length, method);
        (long rangeOffset, long rangeLength) = Range(file, offset, length);
        long? data = advice == FileAdvice.WillNeed && dataExtents is not null ? FileExtents.Bytes(dataExtents) : null;
        string note = Explain(file, advice, rangeOffset, rangeLength, length == 0, measuredBefore, after, flush, data);
        return new FileAdviceOutcome(rangeOffset, rangeLength, measuredBefore, after, flush, calls, note);
    }

    private static void Fadvise(CachedFile file, long offset, long length, int value, FileAdvice advice)
    {
        int errno = Libc.PosixFadvise(file.Handle, offset, length, value).Errno;
        if (errno != 0)
        {
            throw new FileCacheException(FileCacheFailure.AdviceFailed, file.Path, errno) { SystemCall = "posix_fadvise", Advice = advice };
        }
    }

    /// <summary>What the kernel did not do that the caller may expect, from the figures and the rules in FileCacheFacts.</summary>
    internal static string Explain(CachedFile file, FileAdvice advice, long offset, long length, bool toEnd,
        CacheFigures before, CacheFigures after, bool flushed, long? dataBytes = null)
    {
        var notes = new List<string>();
        if (after.Source == CacheSource.NotVisible)
        {
            notes.Add($"The kernel took {advice}, but shows this file's page cache only to its owner, to CAP_FOWNER or to a user who may write it, so what it did is not measured (the cached figures are 0). Run as the owner or as root to measure it.");
        }
        else if (!FileCacheFacts.ActsOnPageCache(advice))
        {
            notes.Add($"{advice} sets how reads through one open file read ahead; MadvPS's own descriptor is closed again, so no reader is affected. A program must give it on its own descriptor.");
        }
        else if (FileCacheFacts.IgnoresFadvise(file.FilesystemType))
        {
            notes.Add("tmpfs has no backing device and ignores fadvise: its pages leave only by deletion or swap.");
        }
        else if (advice == FileAdvice.DontNeed && after.Cached > 0)
        {
            if (before.Dirty > 0 && !flushed)
            {
                notes.Add($"{Display.Bytes(before.Dirty.Value)} were dirty: DontNeed drops only clean pages. The kernel started writing them back, and they stay cached until that is done. Add -Flush to write them first, or advise again later.");
            }

            long end = toEnd ? file.Size : offset + length;
            (long first, long last) = FileCacheFacts.DontNeedWholePages(offset, end, file.Size, FileCacheMeter.PageSize);
            if (first != offset || (!toEnd && end < file.Size && last != end))
            {
                notes.Add("The range does not start and end on page boundaries: the partial pages at its edges are kept.");
            }

            notes.Add($"{Display.Bytes(after.Cached)} stayed cached: pages that processes map, lock, or are writing back do not leave.");
        }
        else if (advice == FileAdvice.WillNeed)
        {
            long range = Math.Min(length, Math.Max(0, file.Size - offset));
            if (dataBytes is long data && data < range)
            {
                notes.Add($"{Display.Bytes(range - data)} of the range are holes (SEEK_HOLE), which hold no data and were not read; {Display.Bytes(data)} of data were.");
            }

            if (after.Cached < FileCacheFacts.RoundUp(dataBytes ?? range, FileCacheMeter.PageSize))
            {
                notes.Add("Readahead is asynchronous and may be cut short by memory pressure: not all of the range is cached yet.");
            }
        }

        return string.Join(" ", notes);
    }
}
