using System;

namespace MadvPS.Core;

/// <summary>A range whose pages cannot be read (outside the user address space, wrapping).</summary>
internal sealed class PageRangeException : Exception
{
    public PageRangeException(ulong start, ulong length, string message)
        : base($"0x{start:x}-0x{start + length:x}: {message}")
    {
        Start = start;
        Length = length;
    }

    public ulong Start { get; }
    public ulong Length { get; }
}
