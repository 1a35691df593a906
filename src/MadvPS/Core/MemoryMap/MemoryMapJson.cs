using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MadvPS.Core;

/// <summary>
/// The data of the page, as JSON the page's script draws. Every string goes through the JSON
/// encoder with HTML-safe escaping (&lt;, &gt;, &amp;, quotes and everything outside ASCII become
/// \u escapes), so no path, title or name can end the script element or break out of a string.
/// Addresses are hex strings (they pass 2^53); sizes are bytes.
/// </summary>
internal static class MemoryMapJson
{
    /// <summary>Backings listed in "where the memory is"; the rest are summed into one row.</summary>
    public const int BackingsShown = 30;
    /// <summary>Rows of the access heatmap: the blocks with the most resident bytes, in address order.</summary>
    public const int HeatRowsShown = 150;

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.Default, Indented = false };

    public static byte[] Serialize(string title, DateTime generatedUtc, string version, IReadOnlyList<MapProcess> processes, int maxBlocks = BlockAggregator.MaxBlocks)
    {
        var buffer = new System.IO.MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, s_options))
        {
            w.WriteStartObject();
            w.WriteString("title", Clean(title));
            w.WriteString("generated", generatedUtc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
            w.WriteString("version", Clean(version));
            w.WriteStartArray("processes");
            foreach (MapProcess process in processes)
            {
                WriteProcess(w, process, maxBlocks);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteProcess(Utf8JsonWriter w, MapProcess process, int maxBlocks)
    {
        List<MapRegion> regions = process.Sorted();
        List<MapBlock> blocks = BlockAggregator.Aggregate(regions, maxBlocks);
        w.WriteStartObject();
        w.WriteString("host", Clean(process.Key.Host));
        w.WriteNumber("pid", process.Key.ProcessId);
        w.WriteString("name", Clean(process.Name));
        w.WriteString("startTime", process.Key.StartTime.ToString(CultureInfo.InvariantCulture));
        w.WriteString("bootId", Clean(process.Key.BootId));
        w.WriteNumber("mappings", regions.Count);
        w.WriteString("source", regions.Any(r => r.FromRuns) ? "page runs" : regions.Any(r => r.PageResident >= 0) ? "page summaries" : regions.Count > 0 ? "smaps" : process.Rollup is not null ? "smaps_rollup" : "");

        long size = 0, resident = 0, swapped = 0, absent = 0, rss = 0, pss = 0, swap = 0, idle = -1;
        foreach (MapBlock b in blocks)
        {
            size += b.Size;
            resident += b.Resident;
            swapped += b.Swapped;
            absent += b.Absent;
            rss += b.Rss;
            pss += b.Pss;
            swap += b.Swap;
            if (b.Idle >= 0)
            {
                idle = Math.Max(0, idle) + b.Idle;
            }
        }

        if (regions.Count == 0 && process.Rollup is MapRollup rollup)
        {
            resident = rss = rollup.Rss;
            pss = rollup.Pss;
            swapped = swap = rollup.Swap;
        }

        if (idle < 0 && process.Access is MapProcessAccess access)
        {
            idle = access.IdleBytes;
        }

        w.WriteNumber("size", size);
        w.WriteNumber("resident", resident);
        w.WriteNumber("swapped", swapped);
        w.WriteNumber("absent", absent);
        w.WriteNumber("rss", rss);
        w.WriteNumber("pss", pss);
        w.WriteNumber("swap", swap);
        w.WriteNumber("idle", idle);
        if (process.Rollup is MapRollup r)
        {
            w.WriteStartObject("rollup");
            w.WriteNumber("rss", r.Rss);
            w.WriteNumber("pss", r.Pss);
            w.WriteNumber("swap", r.Swap);
            w.WriteNumber("anonymous", r.Anonymous);
            w.WriteNumber("pssFile", r.PssFile);
            w.WriteNumber("pssShmem", r.PssShmem);
            w.WriteEndObject();
        }

        WriteBlocks(w, blocks);
        WriteBackings(w, regions);
        WriteHeat(w, regions, blocks);
        if (process.Access is MapProcessAccess a)
        {
            w.WriteStartObject("processAccess");
            w.WriteString("mappingType", Clean(a.MappingType));
            w.WriteNumber("window", a.WindowSeconds);
            w.WriteNumber("rss", a.Rss);
            w.WriteNumber("workingSet", a.WorkingSetBytes);
            w.WriteNumber("idle", a.IdleBytes);
            Numbers(w, "referenced", a.ReferencedBytes);
            w.WriteEndObject();
        }

        w.WriteStartArray("advice");
        foreach (MapAdvice advice in process.Advice)
        {
            w.WriteStartObject();
            w.WriteString("advice", Clean(advice.Advice));
            w.WriteString("source", Clean(advice.Source));
            w.WriteNumber("ranges", advice.RangesRequested);
            w.WriteNumber("requested", advice.BytesRequested);
            w.WriteNumber("advised", advice.BytesAdvised);
            w.WriteNumber("rangesSkipped", advice.RangesSkipped);
            w.WriteNumber("skipped", advice.BytesSkipped);
            w.WriteNumber("rangesFailed", advice.RangesFailed);
            w.WriteNumber("failed", advice.BytesFailed);
            w.WriteNumber("rssBefore", advice.RssBefore);
            w.WriteNumber("rssAfter", advice.RssAfter);
            w.WriteNumber("swapBefore", advice.SwapBefore);
            w.WriteNumber("swapAfter", advice.SwapAfter);
            w.WriteNumber("refaulted", advice.BytesRefaulted);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    // One compact object per block: s start, e end, z size, k kind, n mappings held, r resident,
    // w swapped, a absent, i idle (-1 unmeasured), x rss, y pss, v smaps swap, g page data, c mixed kinds, m perms,
    // f flags, p first paths, q distinct paths.
    private static void WriteBlocks(Utf8JsonWriter w, List<MapBlock> blocks)
    {
        w.WriteStartArray("blocks");
        foreach (MapBlock b in blocks)
        {
            w.WriteStartObject();
            w.WriteString("s", Display.Address(b.Start));
            w.WriteString("e", Display.Address(b.End));
            w.WriteNumber("z", b.Size);
            w.WriteString("k", b.Kind.ToString());
            w.WriteNumber("n", b.Count);
            w.WriteNumber("r", b.Resident);
            w.WriteNumber("w", b.Swapped);
            w.WriteNumber("a", b.Absent);
            w.WriteNumber("i", b.Idle);
            w.WriteNumber("x", b.Rss);
            w.WriteNumber("y", b.Pss);
            w.WriteNumber("v", b.Swap);
            if (b.FromPages)
            {
                w.WriteNumber("g", 1);
            }

            if (b.MixedKinds)
            {
                w.WriteNumber("c", 1);
            }

            if (b.Permissions.Length > 0)
            {
                w.WriteString("m", Clean(b.Permissions));
            }

            if (b.Flags.Length > 0)
            {
                w.WriteString("f", Clean(b.Flags));
            }

            if (b.Paths.Count > 0)
            {
                w.WriteStartArray("p");
                foreach (string path in b.Paths)
                {
                    w.WriteStringValue(Clean(path));
                }

                w.WriteEndArray();
                w.WriteNumber("q", b.DistinctPaths);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>What a mapping's memory is counted under in "where the memory is".</summary>
    public static string BackingOf(MapRegion region) => region.Kind switch
    {
        MappingKind.Heap => "[heap]",
        MappingKind.Stack => "[stack]",
        MappingKind.Anonymous => "anonymous",
        _ when region.Path.Length > 0 => region.Path,
        MappingKind.SharedMemory => "shared memory",
        _ => region.Kind.ToString(),
    };

    private static void WriteBackings(Utf8JsonWriter w, List<MapRegion> regions)
    {
        var rows = new Dictionary<string, (MappingKind Kind, long Resident, long Swapped, long Idle, int Count)>(StringComparer.Ordinal);
        foreach (MapRegion region in regions)
        {
            string key = BackingOf(region);
            rows.TryGetValue(key, out var row);
            long resident = Math.Max(0, region.Resident);
            rows[key] = (region.Kind, row.Resident + resident, row.Swapped + Math.Max(0, region.Swapped),
                row.Idle + (region.Idle >= 0 ? Math.Min(region.Idle, resident) : 0), row.Count + 1);
        }

        var ordered = rows.OrderByDescending(p => p.Value.Resident + p.Value.Swapped).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        w.WriteStartArray("backings");
        // One row more rather than a row of "1 other backing".
        int shown = ordered.Count == BackingsShown + 1 ? ordered.Count : BackingsShown;
        for (int i = 0; i < ordered.Count && i < shown; i++)
        {
            var (kind, resident, swapped, idle, count) = ordered[i].Value;
            Backing(w, ordered[i].Key, kind.ToString(), resident, swapped, idle, count, 1);
        }

        if (ordered.Count > shown)
        {
            var rest = ordered.Skip(shown).ToList();
            Backing(w, $"{rest.Count} other backings", "Special", rest.Sum(p => p.Value.Resident), rest.Sum(p => p.Value.Swapped),
                rest.Sum(p => p.Value.Idle), rest.Sum(p => p.Value.Count), rest.Count);
        }

        w.WriteEndArray();
    }

    private static void Backing(Utf8JsonWriter w, string label, string kind, long resident, long swapped, long idle, int mappings, int backings)
    {
        w.WriteStartObject();
        w.WriteString("label", Clean(label));
        w.WriteString("k", kind);
        w.WriteNumber("r", resident);
        w.WriteNumber("w", swapped);
        w.WriteNumber("i", idle);
        w.WriteNumber("n", mappings);
        if (backings > 1)
        {
            w.WriteNumber("b", backings);
        }

        w.WriteEndObject();
    }

    private static void WriteHeat(Utf8JsonWriter w, List<MapRegion> regions, List<MapBlock> blocks)
    {
        MapRegion? measured = regions.FirstOrDefault(r => r.ReferencedByWindow.Length > 0);
        if (measured is null)
        {
            return;
        }

        var rows = blocks.Where(b => b.Referenced.Length > 0)
            .OrderByDescending(b => b.Rss).ThenBy(b => b.Start).Take(HeatRowsShown)
            .OrderBy(b => b.Start).ToList();
        w.WriteStartObject("heat");
        w.WriteNumber("window", measured.WindowSeconds);
        w.WriteNumber("windows", rows.Max(b => b.Referenced.Length));
        w.WriteNumber("measured", blocks.Count(b => b.Referenced.Length > 0));
        w.WriteStartArray("rows");
        foreach (MapBlock b in rows)
        {
            w.WriteStartObject();
            w.WriteString("s", Display.Address(b.Start));
            w.WriteString("e", Display.Address(b.End));
            w.WriteString("k", b.Kind.ToString());
            // Unnamed memory is told apart by its address.
            w.WriteString("label", Clean(b.Paths.Count > 0 ? b.Paths[0] : $"{BackingOf(new MapRegion { Kind = b.Kind })} at {Display.Address(b.Start)}"));
            w.WriteNumber("n", b.Count);
            w.WriteNumber("x", b.Rss);
            w.WriteNumber("i", b.Idle);
            Numbers(w, "ref", b.Referenced);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Numbers(Utf8JsonWriter w, string name, long[] values)
    {
        w.WriteStartArray(name);
        foreach (long v in values)
        {
            w.WriteNumberValue(v);
        }

        w.WriteEndArray();
    }

    /// <summary>The text with unpaired surrogates (which no encoder can write) replaced by U+FFFD.</summary>
    public static string Clean(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                sb ??= new StringBuilder(text.Length).Append(text, 0, i);
                sb.Append('\uFFFD');
            }
            else
            {
                sb?.Append(c);
            }
        }

        return sb?.ToString() ?? text;
    }
}
