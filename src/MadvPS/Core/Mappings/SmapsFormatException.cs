using System;

namespace MadvPS.Core;

/// <summary>smaps text that is not what the kernel writes, or that stops part way through an entry.</summary>
internal sealed class SmapsFormatException : Exception
{
    public SmapsFormatException(string message, long lineNumber) : base($"{message} (line {lineNumber}).")
    {
        LineNumber = lineNumber;
    }

    public long LineNumber { get; }

    /// <summary>An entry whose lines break the grammar.</summary>
    public static SmapsFormatException Malformed(long entryLine, long lineNumber, string what) =>
        new($"The smaps entry that starts at line {entryLine} is malformed: {what}", lineNumber);
}
