using System;
using System.Collections;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>The output types of Measure-MemoryAccess: whole copies of the mapping, and flat enough for remoting.</summary>
[Collection(ProcessChurnCollection.Name)]
public class AccessOutputTests
{
    [Fact]
    public void AMemoryAccessCopiesEveryFieldOfTheMapping()
    {
        var mapping = new MemoryMapping();
        int n = 1;
        foreach (PropertyInfo p in typeof(MemoryMapping).GetProperties())
        {
            Type t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object value = t == typeof(string) ? $"v{n}" : t == typeof(bool) ? true : t.IsEnum ? Enum.ToObject(t, n) : Convert.ChangeType(n, t);
            p.SetValue(mapping, value);
            n++;
        }

        var access = new MemoryAccess(mapping);
        foreach (PropertyInfo p in typeof(MemoryMapping).GetProperties())
        {
            Assert.True(Equals(p.GetValue(mapping), p.GetValue(access)), $"{p.Name} is not copied");
        }
    }

    [Fact]
    public void AMemoryAccessSurvivesRemotingWithItsWindowsAndIsStillAMapping()
    {
        var access = new MemoryAccess(new MemoryMapping { ProcessId = 42, Start = 0x7f0000000000, Size = 4096, BootId = "b", ProcessStartTime = 9, Kind = MappingKind.File, Path = "/x" })
        {
            ReferencedBytes = new long[] { 4096, 0, 0 },
            Window = TimeSpan.FromMilliseconds(400),
            WindowCount = 3,
            IdleWindows = 2,
            MappingType = MappingSelection.File,
        };
        PSObject back = (PSObject)PSSerializer.Deserialize(PSSerializer.Serialize(access, 1));
        Assert.Equal("Deserialized.MadvPS.MemoryAccess", back.TypeNames[0]);
        Assert.Contains("Deserialized.MadvPS.MemoryMapping", back.TypeNames);
        var windows = ((IEnumerable)((PSObject)back.Properties["ReferencedBytes"].Value).BaseObject).Cast<object>().ToArray();
        Assert.Equal(new object[] { 4096L, 0L, 0L }, windows);
        Assert.Equal(TimeSpan.FromMilliseconds(400), back.Properties["Window"].Value);
        Assert.Equal(0x7f0000000000UL, back.Properties["Start"].Value);
        Assert.Equal(2, back.Properties["IdleWindows"].Value);
        Assert.Equal("File", back.Properties["MappingType"].Value?.ToString());
    }

    [Fact]
    public void AProcessAccessSurvivesRemoting()
    {
        var access = new ProcessAccess { ProcessId = 42, ProcessName = "svc", ReferencedBytes = new long[] { 1, 2 }, WorkingSetBytes = 2, Rss = 10, IdleBytes = 8 };
        PSObject back = (PSObject)PSSerializer.Deserialize(PSSerializer.Serialize(access, 1));
        Assert.Equal("Deserialized.MadvPS.ProcessAccess", back.TypeNames[0]);
        Assert.Equal(2, ((IEnumerable)((PSObject)back.Properties["ReferencedBytes"].Value).BaseObject).Cast<object>().Count());
        Assert.Equal(8L, back.Properties["IdleBytes"].Value);
    }

    // The values of include/uapi/linux/fcntl.h (AT_FDCWD) and include/uapi/asm-generic/fcntl.h (the
    // O_ flags x86_64 and arm64 take from it), written here from the kernel headers: no C compiler
    // needed, as the README promises only the .NET SDK.
    [Theory]
    [InlineData("AT_FDCWD", -100)]
    [InlineData("O_RDONLY", 0)]
    [InlineData("O_WRONLY", 1)]
    [InlineData("O_CLOEXEC", 0x80000)] // 02000000 octal
    public void OpenFlagsMatchTheKernelHeaders(string name, int expected)
    {
        int actual = (int)typeof(Libc).GetField(name, BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Public)!.GetValue(null)!;
        Assert.Equal(expected, actual);
    }

    [Fact]
    [Trait("Needs", "Process")]
    public void TheKernelSeesTheCloseOnExecFlagOfADescriptorTheInteropOpens()
    {
        // /proc/self/fdinfo/N "flags:" is the file's f_flags in octal, with O_CLOEXEC added when the
        // descriptor has it (fs/proc/fd.c seq_show): the kernel's own reading of what was passed.
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = Libc.OpenReadOnly("/proc/self/status\0"u8, "/proc/self/status");
        int fd = (int)handle.DangerousGetHandle();
        string flags = System.IO.File.ReadAllLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal)).Split('\t', ' ').Last(w => w.Length > 0);
        long value = Convert.ToInt64(flags, 8);
        Assert.True((value & 0x80000) != 0, $"flags {flags}");
        Assert.Equal(0, value & 3); // O_ACCMODE: read-only
    }
}
