using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace MadvPS.Core;

/// <summary>
/// A parser of /proc/PID/maps: the same header lines as smaps (show_map_vma prints both), one
/// line an entry, no fields. Entries have no sizes and no VmFlags (HasVmFlags stays false).
/// </summary>
internal sealed class MapsParser : MappingEntryParser
{
    public MapsParser(Stream stream) : base(stream)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool TryReadEntry(out SmapsEntry entry)
    {
        entry = Entry;
        while (true)
        {
            if (!Lines.TryGetLine(out ReadOnlySpan<byte> line, out bool terminated))
            {
                return false;
            }

            if (!terminated)
            {
                throw new SmapsFormatException(SmapsDefect.CutOffLine, Lines.LineNumber);
            }

            if (line.Length == 0)
            {
                continue;
            }

            if (!IsHeader(line))
            {
                throw new SmapsFormatException(SmapsDefect.NotAnAddressRange, Lines.LineNumber);
            }

            StartEntry(line);
            return true;
        }
    }
}
