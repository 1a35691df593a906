namespace MadvPS.Core;

/// <summary>
/// The entry being parsed. One instance is reused for every entry of a file, so parsing allocates
/// nothing per line: only the strings a mapping keeps, and those are shared between entries that
/// name the same file.
/// </summary>
internal sealed class SmapsEntry
{
    public SmapsSizes Sizes;
    public ulong Start;
    public ulong End;
    public string Permissions = "";
    public ulong Offset;
    public string Device = "";
    public ulong Inode;
    public string Path = "";
    public bool IsDeleted;
    public MappingKind Kind;
    public bool ThpEligible;
    public int? ProtectionKey;
    public VmFlags VmFlags;
    public string UnknownVmFlags = "";
    public bool HasVmFlags;

    internal void Reset()
    {
        Sizes = default;
        ThpEligible = false;
        ProtectionKey = null;
        VmFlags = VmFlags.None;
        UnknownVmFlags = "";
        HasVmFlags = false;
    }
}
