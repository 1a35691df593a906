using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>Something the kernel did not do that the caller may expect (<see cref="FileNote"/>).</summary>
internal enum FileNoteKind
{
    /// <summary>The advice was taken but the file's page cache is not visible to the caller: nothing measured.</summary>
    NotVisible,
    /// <summary>The advice sets readahead for one open file only (Sequential, Random, Normal, NoReuse).</summary>
    OpenFileOnly,
    /// <summary>The filesystem (tmpfs) ignores fadvise.</summary>
    IgnoresFadvise,
    /// <summary>Bytes were dirty and stay cached until written back.</summary>
    DirtyKept,
    /// <summary>The range does not start and end on page boundaries: its edge pages are kept.</summary>
    PartialEdges,
    /// <summary>Bytes stayed cached (mapped, locked or under writeback).</summary>
    StayedCached,
    /// <summary>Bytes of the range are holes, not read; DataBytes of data were.</summary>
    Holes,
    /// <summary>Readahead has not cached all of the range yet.</summary>
    ReadaheadShort,
}

/// <summary>One note on what an advice did, with its figures; Commands word it.</summary>
internal readonly record struct FileNote(FileNoteKind Kind, long Bytes = 0, long DataBytes = 0);

/// <summary>What one advice did to one file's range, and the notes on it.</summary>
internal sealed record FileAdviceOutcome(
    long Offset, long Length, CacheFigures Before, CacheFigures After, bool Flushed, int Calls, IReadOnlyList<FileNote> Notes);

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
        List<FileNote> notes = Explain(file, advice, rangeOffset, rangeLength, length == 0, measuredBefore, after, flush, data);
        return new FileAdviceOutcome(rangeOffset, rangeLength, measuredBefore, after, flush, calls, notes);
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
    internal static List<FileNote> Explain(CachedFile file, FileAdvice advice, long offset, long length, bool toEnd,
        CacheFigures before, CacheFigures after, bool flushed, long? dataBytes = null)
    {
        var notes = new List<FileNote>();
        if (after.Source == CacheSource.NotVisible)
        {
            notes.Add(new FileNote(FileNoteKind.NotVisible));
        }
        else if (!FileCacheFacts.ActsOnPageCache(advice))
        {
            notes.Add(new FileNote(FileNoteKind.OpenFileOnly));
        }
        else if (FileCacheFacts.IgnoresFadvise(file.FilesystemType))
        {
            notes.Add(new FileNote(FileNoteKind.IgnoresFadvise));
        }
        else if (advice == FileAdvice.DontNeed && after.Cached > 0)
        {
            if (before.Dirty > 0 && !flushed)
            {
                notes.Add(new FileNote(FileNoteKind.DirtyKept, before.Dirty.Value));
            }

            long end = toEnd ? file.Size : offset + length;
            (long first, long last) = FileCacheFacts.DontNeedWholePages(offset, end, file.Size, FileCacheMeter.PageSize);
            if (first != offset || (!toEnd && end < file.Size && last != end))
            {
                notes.Add(new FileNote(FileNoteKind.PartialEdges));
            }

            notes.Add(new FileNote(FileNoteKind.StayedCached, after.Cached));
        }
        else if (advice == FileAdvice.WillNeed)
        {
            long range = Math.Min(length, Math.Max(0, file.Size - offset));
            if (dataBytes is long data && data < range)
            {
                notes.Add(new FileNote(FileNoteKind.Holes, range - data, data));
            }

            if (after.Cached < FileCacheFacts.RoundUp(dataBytes ?? range, FileCacheMeter.PageSize))
            {
                notes.Add(new FileNote(FileNoteKind.ReadaheadShort));
            }
        }

        return notes;
    }
}
