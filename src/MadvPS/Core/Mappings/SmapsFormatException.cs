using System;

namespace MadvPS.Core;

/// <summary>What is wrong with smaps or maps text.</summary>
internal enum SmapsDefect
{
    /// <summary>The text ends part way through a line.</summary>
    CutOffLine,
    /// <summary>The text ends inside an entry, before its last line (Key: VmFlags or Locked).</summary>
    CutOffEntry,
    /// <summary>The next header comes before the entry's VmFlags line.</summary>
    NoVmFlagsBeforeNextEntry,
    /// <summary>A field line comes before any header.</summary>
    FieldBeforeHeader,
    /// <summary>A maps line does not start with an address range.</summary>
    NotAnAddressRange,
    /// <summary>A line longer than <see cref="LineReader.MaxLineLength"/>.</summary>
    LineTooLong,

    // The entry that starts at EntryLine is malformed:
    /// <summary>A line follows its VmFlags line.</summary>
    LineAfterVmFlags,
    /// <summary>Its Key line appears twice.</summary>
    FieldTwice,
    /// <summary>A field line has no 'Key:'.</summary>
    NoKey,
    /// <summary>No Size line before its VmFlags.</summary>
    NoSizeBeforeVmFlags,
    /// <summary>The ProtectionKey does not fit an int.</summary>
    ProtectionKeyTooLarge,
    /// <summary>The Key value is not in kB.</summary>
    NotInKilobytes,
    /// <summary>The Key value is too large.</summary>
    ValueTooLarge,
    /// <summary>Its end address lies before its start.</summary>
    EndBeforeStart,
    /// <summary>Its permissions are not four characters.</summary>
    PermissionsNotFourCharacters,
    /// <summary>Its device is not major:minor.</summary>
    DeviceNotMajorMinor,
    /// <summary>Its header does not follow the grammar.</summary>
    HeaderNotInGrammar,
    /// <summary>Key (the text found) is not a whole number.</summary>
    NotAWholeNumber,
}

/// <summary>
/// smaps text that is not what the kernel writes, or that stops part way through an entry, as
/// data (Commands/FailureText.cs words it).
/// </summary>
internal sealed class SmapsFormatException : Exception
{
    public SmapsFormatException(SmapsDefect defect, long lineNumber, long entryLine = 0, string? key = null)
        : base($"{defect} at line {lineNumber}{(entryLine == 0 ? "" : $", in the entry of line {entryLine}")}{(key is null ? "" : $": {key}")}.")
    {
        Defect = defect;
        LineNumber = lineNumber;
        EntryLine = entryLine;
        Key = key;
    }

    public SmapsDefect Defect { get; }
    public long LineNumber { get; }

    /// <summary>The line of the header of the entry the defect is in, or 0.</summary>
    public long EntryLine { get; }

    /// <summary>The field key (or, for NotAWholeNumber, the text) the defect is about, or null.</summary>
    public string? Key { get; }

    /// <summary>An entry whose lines break the grammar.</summary>
    public static SmapsFormatException Malformed(long entryLine, long lineNumber, SmapsDefect defect, string? key = null) =>
        new(defect, lineNumber, entryLine, key);
}
