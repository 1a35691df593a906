using System.Collections.Generic;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>The words for what posix_fadvise did not do that the caller may expect (the core's <see cref="FileNote"/>s).</summary>
internal static partial class FailureText
{
    /// <summary>The notes of one file advice, one sentence or two each, joined by spaces; empty for none.</summary>
    public static string FileNotes(FileAdvice advice, IReadOnlyList<FileNote> notes)
    {
        var sentences = new string[notes.Count];
        for (int i = 0; i < sentences.Length; i++)
        {
            sentences[i] = FileNoteText(advice, notes[i]);
        }

        return string.Join(" ", sentences);
    }

    private static string FileNoteText(FileAdvice advice, FileNote note) => note.Kind switch
    {
        FileNoteKind.NotVisible =>
            $"The kernel took {advice}, but shows this file's page cache only to its owner, to CAP_FOWNER or to a user who may write it, so what it did is not measured (the cached figures are 0). Run as the owner or as root to measure it.",
        FileNoteKind.OpenFileOnly =>
            $"{advice} sets how reads through one open file read ahead; MadvPS's own descriptor is closed again, so no reader is affected. A program must give it on its own descriptor.",
        FileNoteKind.IgnoresFadvise => "tmpfs has no backing device and ignores fadvise: its pages leave only by deletion or swap.",
        FileNoteKind.DirtyKept =>
            $"{Display.Bytes(note.Bytes)} were dirty: DontNeed drops only clean pages. The kernel started writing them back, and they stay cached until that is done. Add -Flush to write them first, or advise again later.",
        FileNoteKind.PartialEdges => "The range does not start and end on page boundaries: the partial pages at its edges are kept.",
        FileNoteKind.StayedCached => $"{Display.Bytes(note.Bytes)} stayed cached: pages that processes map, lock, or are writing back do not leave.",
        FileNoteKind.Holes =>
            $"{Display.Bytes(note.Bytes)} of the range are holes (SEEK_HOLE), which hold no data and were not read; {Display.Bytes(note.DataBytes)} of data were.",
        FileNoteKind.ReadaheadShort => "Readahead is asynchronous and may be cut short by memory pressure: not all of the range is cached yet.",
        _ => note.Kind.ToString(),
    };
}
