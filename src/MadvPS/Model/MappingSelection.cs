namespace MadvPS;

/// <summary>Which part of a process Set-ProcessMadvise advises.</summary>
public enum MappingSelection
{
    /// <summary>Private and named anonymous memory, the heap and the stacks (no backing file).</summary>
    Anonymous,
    /// <summary>Mappings with a backing file: regular files, memfds and shared memory.</summary>
    File,
    /// <summary>Both.</summary>
    All,
}
