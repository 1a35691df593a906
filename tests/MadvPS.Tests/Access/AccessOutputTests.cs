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

    [Fact]
    public void OpenFlagsMatchTheCHeaders()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("madvps-fcntl-").FullName;
        try
        {
            string source = System.IO.Path.Combine(dir, "c.c");
            System.IO.File.WriteAllText(source, "#include <fcntl.h>\n#include <stdio.h>\nint main(void){printf(\"%d %d %d %d\", AT_FDCWD, O_RDONLY, O_WRONLY, O_CLOEXEC);return 0;}\n");
            string binary = System.IO.Path.Combine(dir, "c");
            using (Process gcc = Process.Start(new ProcessStartInfo("gcc", new[] { source, "-o", binary }) { UseShellExecute = false })!)
            {
                gcc.WaitForExit();
                Assert.Equal(0, gcc.ExitCode);
            }

            using Process run = Process.Start(new ProcessStartInfo(binary) { RedirectStandardOutput = true, UseShellExecute = false })!;
            string output = run.StandardOutput.ReadToEnd();
            run.WaitForExit();
            Assert.Equal($"{Libc.AT_FDCWD} {Libc.O_RDONLY} {Libc.O_WRONLY} {Libc.O_CLOEXEC}", output);
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }
}
