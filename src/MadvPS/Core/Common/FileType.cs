namespace MadvPS.Core;

/// <summary>The file type bits of a mode (include/uapi/linux/stat.h), the same on every architecture: the one table of them.</summary>
internal static class FileType
{
    public const int Mask = 0xF000;
    public const int Socket = 0xC000;
    public const int SymbolicLink = 0xA000;
    public const int Regular = 0x8000;
    public const int BlockDevice = 0x6000;
    public const int Directory = 0x4000;
    public const int CharacterDevice = 0x2000;
    public const int Fifo = 0x1000;
}
