using System;
using System.Collections.Generic;

namespace MadvPS.Core;

/// <summary>
/// Mappings of one process read together: pieces in address order, none sharing a page with the
/// one before, all within one window of pagemap words (128 MiB of address space with 4 KiB
/// pages). One PAGEMAP_SCAN walk and one read of words then serve them all, where a piece at a
/// time costs a call or two each: the 60,000 one-page mappings of a fragmented heap are a few
/// calls instead of 120,000. A piece larger than the window is a group of its own.
/// </summary>
internal sealed class PageGroup
{
    private readonly List<MappedRange> _pieces = new();
    private ulong _first;
    private ulong _last;

    /// <summary>The span one group may cover: one window of pagemap words.</summary>
    public static ulong SpanLimit => (ulong)PagemapReader.WordWindow * PagemapReader.PageSize;

    public int Count => _pieces.Count;
    public IReadOnlyList<MappedRange> Pieces => _pieces;
    /// <summary>The first byte of the group's first page.</summary>
    public ulong Start => _first;
    /// <summary>The end of the group's last page.</summary>
    public ulong End => _last;

    /// <summary>Adds the piece when the group is empty or it fits (after the last piece's page, within the span); false otherwise.</summary>
    public bool TryAdd(in MappedRange piece)
    {
        ulong mask = PagemapReader.PageSize - 1;
        ulong start = piece.Start & ~mask;
        ulong end = piece.End > ulong.MaxValue - mask ? ulong.MaxValue & ~mask : (piece.End + mask) & ~mask;
        if (_pieces.Count > 0 && (start < _last || end - _first > SpanLimit))
        {
            return false;
        }

        if (_pieces.Count == 0)
        {
            _first = start;
        }

        _last = end;
        _pieces.Add(piece);
        return true;
    }

    public void Clear() => _pieces.Clear();

    /// <summary>
    /// The runs of each piece, in address order, as <see cref="PagemapReader.Runs"/> gives them for
    /// the piece alone: the runs of the group's span cut at the pieces' edges, those in the gaps
    /// between pieces dropped. Errors as Runs'.
    /// </summary>
    public IEnumerable<(int Piece, PageRun Run)> Runs(PagemapReader reader)
    {
        if (_pieces.Count == 1)
        {
            MappedRange only = _pieces[0];
            foreach (PageRun run in reader.Runs(only.Start, only.End - only.Start))
            {
                yield return (0, run);
            }

            yield break;
        }

        ulong mask = PagemapReader.PageSize - 1;
        int i = 0;
        ulong pieceStart = _pieces[0].Start & ~mask, pieceEnd = (_pieces[0].End + mask) & ~mask;
        foreach (PageRun run in reader.Runs(_first, _last - _first))
        {
            ulong runEnd = run.End;
            while (i < _pieces.Count)
            {
                if (pieceStart >= runEnd)
                {
                    break;
                }

                ulong from = Math.Max(run.Start, pieceStart);
                ulong to = Math.Min(runEnd, pieceEnd);
                if (to > from)
                {
                    yield return (i, run with { Start = from, Length = to - from });
                }

                if (pieceEnd > runEnd)
                {
                    break;
                }

                if (++i < _pieces.Count)
                {
                    pieceStart = _pieces[i].Start & ~mask;
                    pieceEnd = (_pieces[i].End + mask) & ~mask;
                }
            }
        }
    }

    /// <summary>
    /// The totals of each piece, as <see cref="PagemapReader.Count"/> gives them for the piece
    /// alone, into <paramref name="counts"/> (at least Count long): one read of the words of the span.
    /// </summary>
    public void Counts(PagemapReader reader, Span<PageCounts> counts)
    {
        if (_pieces.Count == 1)
        {
            counts[0] = reader.Count(_pieces[0].Start, _pieces[0].End - _pieces[0].Start);
            return;
        }

        reader.CountEach(_first, _last, _pieces, counts);
    }
}
