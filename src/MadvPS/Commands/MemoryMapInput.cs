using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Turns what Export-MemoryMap is given into the core's plain records. Objects are recognized by
/// type name (PSObject.TypeNames, so "Deserialized.MadvPS.X" from remoting and "CSV:MadvPS.X" from
/// Import-Csv count as MadvPS.X) and read by property name; live mappings take a direct path.
/// </summary>
internal static class MemoryMapInput
{
    /// <summary>The type names drawn, without the MadvPS. prefix.</summary>
    public static readonly string[] Drawn =
    {
        "MemoryAccess", "MemoryMapping", "ProcessMemory", "ProcessAccess", "AdviceResult", "ProcessAdviceResult",
        "MemoryPageRun", "MemoryPageSummary", "ReclaimResult",
    };

    /// <summary>The MadvPS type of the object (without prefix), or null if it is none the map draws.</summary>
    public static string? Recognize(PSObject input)
    {
        foreach (string typeName in input.TypeNames)
        {
            string name = typeName;
            if (name.StartsWith("CSV:", StringComparison.Ordinal))
            {
                name = name.Substring(4);
            }

            if (name.StartsWith("Deserialized.", StringComparison.Ordinal))
            {
                name = name.Substring("Deserialized.".Length);
            }

            if (name.StartsWith("MadvPS.", StringComparison.Ordinal) && Array.IndexOf(Drawn, name.Substring(7)) >= 0)
            {
                return name.Substring(7);
            }
        }

        return null;
    }

    /// <summary>Adds the object to the builder; false if it is of no type the map draws.</summary>
    /// <exception cref="InvalidCastException">A property the type needs is missing or unreadable.</exception>
    public static bool Add(MemoryMapBuilder builder, PSObject input)
    {
        if (input.BaseObject is MemoryMapping live)
        {
            // Read on this host (a live object); the direct path of the 60,000-mapping case.
            builder.AddMapping(new MapProcessKey("", live.ProcessId, live.ProcessStartTime, live.BootId), live.ProcessName, FromLive(live));
            return true;
        }

        string? type = Recognize(input);
        if (type is null)
        {
            return false;
        }

        string host = Text(input, "PSComputerName");
        int pid = (int)Long(input, "ProcessId", required: true);
        string name = Text(input, "ProcessName");
        switch (type)
        {
            case "MemoryMapping":
            case "MemoryAccess":
                builder.AddMapping(Key(input, host, pid), name, Region(input, type == "MemoryAccess"));
                break;
            case "MemoryPageSummary":
                MapRegion summary = Bounds(input, new MapRegion());
                summary.PageResident = Long(input, "ResidentBytes");
                summary.PageSwapped = Long(input, "SwappedBytes");
                summary.PageAbsent = Long(input, "AbsentBytes");
                summary.PageExclusive = Long(input, "ExclusiveBytes");
                builder.AddPageSummary(Key(input, host, pid), name, summary);
                break;
            case "MemoryPageRun":
                ulong start = ULong(input, "Start", required: true);
                ulong end = ULong(input, "End");
                if (end <= start)
                {
                    end = start + (ulong)Math.Max(0, Long(input, "Size", required: true));
                }

                builder.AddPageRun(Key(input, host, pid), name, new MapPageRun(start, end, State(input), Kind(input), Text(input, "Path"),
                    Bool(input, "Huge"), Bool(input, "Exclusive")));
                break;
            case "ProcessMemory":
                builder.AddRollup(Key(input, host, pid), name, new MapRollup(Long(input, "Rss"), Long(input, "Pss"), Long(input, "Swap"),
                    Long(input, "Anonymous"), Long(input, "PssFile"), Long(input, "PssShmem")));
                break;
            case "ProcessAccess":
                builder.AddProcessAccess(Key(input, host, pid), name, new MapProcessAccess(Text(input, "MappingType"), Seconds(input, "Window"),
                    Long(input, "Rss"), Longs(input, "ReferencedBytes"), Long(input, "WorkingSetBytes"), Long(input, "IdleBytes")));
                break;
            case "AdviceResult":
                builder.AddAdviceRange(host, pid, name, Text(input, "Advice"), Text(input, "Status"), Long(input, "Size"), Long(input, "BytesAdvised"));
                break;
            default: // ProcessAdviceResult, ReclaimResult
                builder.AddProcessAdvice(host, pid, name, new MapAdvice
                {
                    Advice = Has(input, "Advice") ? Text(input, "Advice") : "Reclaim",
                    Source = type,
                    RangesRequested = (int)Long(input, "RangesRequested"),
                    BytesRequested = Long(input, "BytesRequested"),
                    BytesAdvised = Long(input, "BytesAdvised"),
                    RangesSkipped = (int)Long(input, "RangesSkipped"),
                    BytesSkipped = -1,
                    RangesFailed = (int)Long(input, "RangesFailed"),
                    BytesFailed = -1,
                    RssBefore = Long(input, "RssBefore", missing: -1),
                    RssAfter = Long(input, "RssAfter", missing: -1),
                    SwapBefore = Long(input, "SwapBefore", missing: -1),
                    SwapAfter = Long(input, "SwapAfter", missing: -1),
                    BytesRefaulted = Long(input, "BytesRefaulted", missing: -1),
                });
                break;
        }

        return true;
    }

    private static MapProcessKey Key(PSObject input, string host, int pid) =>
        new(host, pid, ULong(input, "ProcessStartTime"), Text(input, "BootId"));

    private static MapRegion Bounds(PSObject input, MapRegion region)
    {
        region.Start = ULong(input, "Start", required: true);
        region.Size = Long(input, "Size");
        region.End = ULong(input, "End");
        if (region.End <= region.Start)
        {
            region.End = region.Start + (ulong)Math.Max(0, region.Size);
        }

        if (region.Size <= 0)
        {
            region.Size = (long)(region.End - region.Start);
        }

        region.Path = Text(input, "Path");
        region.Kind = Kind(input);
        return region;
    }

    private static MapRegion Region(PSObject input, bool access)
    {
        MapRegion region = Bounds(input, new MapRegion());
        region.Permissions = Text(input, "Permissions");
        region.Flags = Text(input, "VmFlags");
        region.Rss = Long(input, "Rss");
        region.Pss = Long(input, "Pss");
        region.Swap = Long(input, "Swap");
        region.Anonymous = Long(input, "Anonymous");
        region.PrivateBytes = Long(input, "PrivateClean") + Long(input, "PrivateDirty");
        region.SharedBytes = Long(input, "SharedClean") + Long(input, "SharedDirty");
        region.Referenced = Long(input, "Referenced");
        if (access)
        {
            region.Idle = Long(input, "IdleBytes");
            region.IdleWindows = (int)Long(input, "IdleWindows");
            region.ReferencedByWindow = Longs(input, "ReferencedBytes");
            region.WindowSeconds = Seconds(input, "Window");
        }

        return region;
    }

    private static MapRegion FromLive(MemoryMapping m)
    {
        var region = new MapRegion
        {
            Start = m.Start,
            End = m.End,
            Size = m.Size,
            Kind = m.Kind,
            Path = m.Path,
            Permissions = m.Permissions,
            Flags = m.VmFlags.ToString(),
            Rss = m.Rss,
            Pss = m.Pss,
            Swap = m.Swap,
            Anonymous = m.Anonymous,
            PrivateBytes = m.PrivateClean + m.PrivateDirty,
            SharedBytes = m.SharedClean + m.SharedDirty,
            Referenced = m.Referenced,
        };
        if (m is MemoryAccess a)
        {
            region.Idle = a.IdleBytes;
            region.IdleWindows = a.IdleWindows;
            region.ReferencedByWindow = a.ReferencedBytes;
            region.WindowSeconds = a.Window.TotalSeconds;
        }

        return region;
    }

    private static bool Has(PSObject input, string name) => input.Properties[name] is not null;

    private static object? Value(PSObject input, string name, bool required)
    {
        PSPropertyInfo? property = input.Properties[name];
        if (property is null)
        {
            if (required)
            {
                throw new InvalidCastException($"It has no {name} property.");
            }

            return null;
        }

        object? value = property.Value;
        return value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;
    }

    private static long Long(PSObject input, string name, bool required = false, long missing = 0)
    {
        object? value = Value(input, name, required);
        try
        {
            return value switch
            {
                null => missing,
                long l => l,
                int i => i,
                ulong u => (long)u,
                string s when s.Length == 0 => missing,
                _ => (long)LanguagePrimitives.ConvertTo(value, typeof(long), CultureInfo.InvariantCulture),
            };
        }
        catch (PSInvalidCastException e)
        {
            throw new InvalidCastException($"Its {name} ({value}) is not a number.", e);
        }
    }

    private static ulong ULong(PSObject input, string name, bool required = false)
    {
        object? value = Value(input, name, required);
        try
        {
            return value switch
            {
                null => 0,
                ulong u => u,
                long l => (ulong)l,
                string s when s.Length == 0 => 0,
                _ => (ulong)LanguagePrimitives.ConvertTo(value, typeof(ulong), CultureInfo.InvariantCulture),
            };
        }
        catch (PSInvalidCastException e)
        {
            throw new InvalidCastException($"Its {name} ({value}) is not a number.", e);
        }
    }

    private static bool Bool(PSObject input, string name) => Value(input, name, false) switch
    {
        null => false,
        bool b => b,
        string s => string.Equals(s, "True", StringComparison.OrdinalIgnoreCase),
        object v => LanguagePrimitives.IsTrue(v),
    };

    /// <summary>A property as text; an enum (live, or deserialized with its ToString) by name.</summary>
    private static string Text(PSObject input, string name) => input.Properties[name]?.Value?.ToString() ?? "";

    private static double Seconds(PSObject input, string name) => Value(input, name, false) switch
    {
        TimeSpan t => t.TotalSeconds,
        string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out TimeSpan t) => t.TotalSeconds,
        _ => 0,
    };

    private static long[] Longs(PSObject input, string name)
    {
        object? value = Value(input, name, false);
        if (value is long[] array)
        {
            return array;
        }

        var list = new List<long>();
        if (value is string text)
        {
            // A CSV row: the array's elements, space separated.
            foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (long.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n))
                {
                    list.Add(n);
                }
            }
        }
        else if (value is IEnumerable items)
        {
            foreach (object? item in items)
            {
                list.Add(item is null ? 0 : (long)LanguagePrimitives.ConvertTo(item, typeof(long), CultureInfo.InvariantCulture));
            }
        }

        return list.ToArray();
    }

    private static MappingKind Kind(PSObject input)
    {
        string text = Text(input, "Kind");
        if (Enum.TryParse(text, ignoreCase: true, out MappingKind kind) && Enum.IsDefined(kind))
        {
            return kind;
        }

        return MappingKind.Special;
    }

    private static MapPageState State(PSObject input)
    {
        string text = Text(input, "State");
        return Enum.TryParse(text, ignoreCase: true, out MapPageState state) && Enum.IsDefined(state) ? state : MapPageState.Absent;
    }
}
