using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class SmapsParserTests
{
    [Fact]
    public void ParsesEverySizeInBytes()
    {
        var kb = SmapsText.SizeKeys.Select((key, i) => (key, value: (long)(i + 1) * 3)).ToDictionary(p => p.key, p => p.value);
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, kb: kb, thp: true, pkey: 3)).Single();
        Assert.Equal(kb["KernelPageSize"] * 1024, m.KernelPageSize);
        Assert.Equal(kb["MMUPageSize"] * 1024, m.MMUPageSize);
        Assert.Equal(kb["Rss"] * 1024, m.Rss);
        Assert.Equal(kb["Pss"] * 1024, m.Pss);
        Assert.Equal(kb["Pss_Dirty"] * 1024, m.PssDirty);
        Assert.Equal(kb["Shared_Clean"] * 1024, m.SharedClean);
        Assert.Equal(kb["Shared_Dirty"] * 1024, m.SharedDirty);
        Assert.Equal(kb["Private_Clean"] * 1024, m.PrivateClean);
        Assert.Equal(kb["Private_Dirty"] * 1024, m.PrivateDirty);
        Assert.Equal(kb["Referenced"] * 1024, m.Referenced);
        Assert.Equal(kb["Anonymous"] * 1024, m.Anonymous);
        Assert.Equal(kb["KSM"] * 1024, m.Ksm);
        Assert.Equal(kb["LazyFree"] * 1024, m.LazyFree);
        Assert.Equal(kb["AnonHugePages"] * 1024, m.AnonHugePages);
        Assert.Equal(kb["ShmemPmdMapped"] * 1024, m.ShmemPmdMapped);
        Assert.Equal(kb["FilePmdMapped"] * 1024, m.FilePmdMapped);
        Assert.Equal(kb["Shared_Hugetlb"] * 1024, m.SharedHugetlb);
        Assert.Equal(kb["Private_Hugetlb"] * 1024, m.PrivateHugetlb);
        Assert.Equal(kb["Swap"] * 1024, m.Swap);
        Assert.Equal(kb["SwapPss"] * 1024, m.SwapPss);
        Assert.Equal(kb["Locked"] * 1024, m.Locked);
        Assert.True(m.ThpEligible);
        Assert.Equal(3, m.ProtectionKey);
        Assert.Equal(0x1000UL, (ulong)m.Size);
    }

    [Fact]
    public void ParsesTheHeader()
    {
        string text = SmapsText.Header(0x7f0000001000, 0x7f0000003000, "r-xp", 0x2000, "fe:01", 247629, "/usr/bin/head") + "\n"
            + "Size: 8 kB\nVmFlags: rd ex mr mw me \n";
        var m = SmapsText.Parse(text).Single();
        Assert.Equal(0x7f0000001000UL, m.Start);
        Assert.Equal(0x7f0000003000UL, m.End);
        Assert.Equal(0x2000L, m.Size);
        Assert.Equal("r-xp", m.Permissions);
        Assert.Equal(0x2000UL, m.Offset);
        Assert.Equal("fe:01", m.Device);
        Assert.Equal(247629UL, m.Inode);
        Assert.Equal("/usr/bin/head", m.Path);
        Assert.Equal(MappingKind.File, m.Kind);
        Assert.Equal(VmFlags.Read | VmFlags.Execute | VmFlags.MayRead | VmFlags.MayWrite | VmFlags.MayExecute, m.VmFlags);
        Assert.Equal(1, m.ProcessId);
        Assert.Equal(42UL, m.ProcessStartTime);
    }

    [Theory]
    [InlineData("", MappingKind.Anonymous, "", false)]
    [InlineData("[heap]", MappingKind.Heap, "[heap]", false)]
    [InlineData("[stack]", MappingKind.Stack, "[stack]", false)]
    [InlineData("[stack:1234]", MappingKind.Stack, "[stack:1234]", false)]
    [InlineData("[vdso]", MappingKind.Vdso, "[vdso]", false)]
    [InlineData("[vvar]", MappingKind.Vvar, "[vvar]", false)]
    [InlineData("[vvar_vclock]", MappingKind.Vvar, "[vvar_vclock]", false)]
    [InlineData("[vsyscall]", MappingKind.Vsyscall, "[vsyscall]", false)]
    [InlineData("[uprobes]", MappingKind.Special, "[uprobes]", false)]
    [InlineData("[anon:dalvik-main space]", MappingKind.NamedAnonymous, "[anon:dalvik-main space]", false)]
    [InlineData("[anon_shmem:ashmem]", MappingKind.SharedMemory, "[anon_shmem:ashmem]", false)]
    [InlineData("/memfd:madvps (deleted)", MappingKind.Memfd, "/memfd:madvps", true)]
    [InlineData("/SYSV00000000 (deleted)", MappingKind.SharedMemory, "/SYSV00000000", true)]
    [InlineData("/dev/shm/pulse-shm-1", MappingKind.SharedMemory, "/dev/shm/pulse-shm-1", false)]
    [InlineData("/tmp/a file with  spaces", MappingKind.File, "/tmp/a file with  spaces", false)]
    [InlineData("/tmp/tab\there", MappingKind.File, "/tmp/tab\there", false)]
    [InlineData(@"/tmp/back\slash", MappingKind.File, @"/tmp/back\slash", false)]
    [InlineData(@"/tmp/new\012line", MappingKind.File, "/tmp/new\nline", false)]
    [InlineData("/usr/lib/libfoo.so (deleted)", MappingKind.File, "/usr/lib/libfoo.so", true)]
    [InlineData("/tmp/ünïcödé", MappingKind.File, "/tmp/ünïcödé", false)]
    public void NamesMappingsAsTheKernelMeansThem(string name, MappingKind kind, string path, bool deleted)
    {
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, name: name, inode: name.StartsWith('/') ? 5UL : 0)).Single();
        Assert.Equal(kind, m.Kind);
        Assert.Equal(path, m.Path);
        Assert.Equal(deleted, m.IsDeleted);
    }

    [Fact]
    public void SharedAnonymousMemoryIsSharedMemory()
    {
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, perms: "rw-s", name: "/dev/zero (deleted)", inode: 6)).Single();
        Assert.Equal(MappingKind.SharedMemory, m.Kind);
    }

    [Fact]
    public void KeysMissingOnOlderKernelsStayZeroAndUnknownKeysArePassedOver()
    {
        string text = SmapsText.Header(0x1000, 0x3000) + "\nSize: 8 kB\nRss: 4 kB\nFutureKey: 99 kB\nSomethingElse: yes\nSwap: 4 kB\nVmFlags: rd wr \n";
        var m = SmapsText.Parse(text).Single();
        Assert.Equal(4096, m.Rss);
        Assert.Equal(4096, m.Swap);
        Assert.Equal(0, m.PssDirty);
        Assert.Null(m.ProtectionKey);
    }

    [Fact]
    public void AnEmptyVmFlagsLineIsNoFlags()
    {
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, vmFlags: "")).Single();
        Assert.Equal(VmFlags.None, m.VmFlags);
        Assert.Equal("", m.UnknownVmFlags);
    }

    [Fact]
    public void UnknownVmFlagCodesAreKept()
    {
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, vmFlags: "rd zz lo ?? gu ")).Single();
        Assert.Equal(VmFlags.Read | VmFlags.Locked | VmFlags.GuardRegions, m.VmFlags);
        Assert.Equal("zz ??", m.UnknownVmFlags);
    }

    public static IEnumerable<object[]> KernelCodes() => KernelVmFlags.Table.Select(r => new object[] { r.Code, r.KernelFlag, r.Flag });

    [Theory]
    [MemberData(nameof(KernelCodes))]
    public void EachKernelVmFlagCodeParsesToItsOwnFlag(string code, string kernelFlag, VmFlags expected)
    {
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, vmFlags: code + " ")).Single();
        Assert.True(expected == m.VmFlags, $"{code} ({kernelFlag}) parsed to {m.VmFlags}, not {expected}");
        Assert.Equal("", m.UnknownVmFlags);
    }

    [Fact]
    public void AllKernelVmFlagCodesTogetherParseToTheirFlags()
    {
        string codes = string.Concat(KernelVmFlags.Table.Select(r => r.Code + " "));
        VmFlags expected = KernelVmFlags.Table.Aggregate(VmFlags.None, (all, r) => all | r.Flag);
        var m = SmapsText.Parse(SmapsText.Entry(0x1000, 0x2000, vmFlags: codes)).Single();
        Assert.Equal("", m.UnknownVmFlags);
        Assert.Equal(expected, m.VmFlags);
        // One member per kernel flag: no two codes share one.
        Assert.Equal(KernelVmFlags.Table.Length, System.Numerics.BitOperations.PopCount((ulong)expected));
    }

    [Fact]
    public void ParsesManyEntriesAcrossBufferBoundaries()
    {
        var text = new StringBuilder();
        for (ulong i = 0; i < 5000; i++)
        {
            text.Append(SmapsText.Entry(0x10000 + i * 0x2000, 0x11000 + i * 0x2000, name: i % 3 == 0 ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "", inode: i % 3 == 0 ? 9UL : 0,
                kb: new Dictionary<string, long> { ["Rss"] = (long)i }));
        }

        var all = SmapsText.Parse(text.ToString());
        Assert.Equal(5000, all.Count);
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal(0x10000UL + (ulong)i * 0x2000, all[i].Start);
            Assert.Equal(i * 1024L, all[i].Rss);
        }

        // One string for the name, shared by every entry that has it.
        Assert.Same(all[0].Path, all[3].Path);
    }

    [Fact]
    public void ARollupHasNoVmFlags()
    {
        string text = "5581ab000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]\n"
            + "Rss:                1704 kB\nPss:                 801 kB\nPss_Dirty:           116 kB\nPss_Anon:            116 kB\n"
            + "Pss_File:            685 kB\nPss_Shmem:             0 kB\nSwap: 12 kB\nLocked: 0 kB\n";
        var parser = new SmapsParser(new MemoryStream(Encoding.ASCII.GetBytes(text)), expectVmFlags: false);
        Assert.True(parser.TryReadEntry(out SmapsEntry entry));
        Assert.Equal(1704 * 1024L, entry.Sizes[(int)SmapsField.Rss]);
        Assert.Equal(116 * 1024L, entry.Sizes[(int)SmapsField.PssAnon]);
        Assert.Equal(685 * 1024L, entry.Sizes[(int)SmapsField.PssFile]);
        Assert.Equal(12 * 1024L, entry.Sizes[(int)SmapsField.Swap]);
        Assert.False(parser.TryReadEntry(out _));
    }

    [Fact]
    public void AnEmptyFileHasNoMappings()
    {
        Assert.Empty(SmapsText.Parse(""));
    }

    [Fact]
    public void TextCutOffMidEntryYieldsTheCompleteEntriesThenOneError()
    {
        string whole = SmapsText.Entry(0x1000, 0x2000) + SmapsText.Entry(0x3000, 0x4000) + SmapsText.Entry(0x5000, 0x6000);
        int secondEnd = (SmapsText.Entry(0x1000, 0x2000) + SmapsText.Entry(0x3000, 0x4000)).Length;
        for (int cut = 1; cut < whole.Length; cut++)
        {
            var parser = new SmapsParser(new MemoryStream(Encoding.ASCII.GetBytes(whole.Substring(0, cut))));
            var seen = new List<ulong>();
            Exception? error = null;
            try
            {
                while (parser.TryReadEntry(out SmapsEntry entry)) seen.Add(entry.Start);
            }
            catch (Exception e)
            {
                error = e;
            }

            int complete = cut >= secondEnd ? 2 : cut >= SmapsText.Entry(0x1000, 0x2000).Length ? 1 : 0;
            bool atBoundary = cut == secondEnd || cut == SmapsText.Entry(0x1000, 0x2000).Length;
            Assert.Equal(complete, seen.Count);
            if (atBoundary)
            {
                Assert.Null(error);
            }
            else
            {
                Assert.IsType<SmapsFormatException>(error);
            }
        }
    }

    [Theory]
    [InlineData("zzzz-1000 rw-p 0 00:00 0\n", nameof(SmapsDefect.FieldBeforeHeader), 1, null)]
    [InlineData("2000-1000 rw-p 00000000 00:00 0 \nVmFlags: \n", nameof(SmapsDefect.EndBeforeStart), 1, null)]
    [InlineData("1000-2000 rw 00000000 00:00 0 \nVmFlags: \n", nameof(SmapsDefect.PermissionsNotFourCharacters), 1, null)]
    [InlineData("1000-2000 rw-p 00000000 00:00 0 \nRss: lots kB\nVmFlags: \n", nameof(SmapsDefect.NotAWholeNumber), 2, "lots")]
    [InlineData("1000-2000 rw-p 00000000 00:00 0 \nRss: 4 MB\nVmFlags: \n", nameof(SmapsDefect.NotInKilobytes), 2, "Rss")]
    [InlineData("1000-2000 rw-p 00000000 00:00 0 \nRss: 99999999999999999999 kB\nVmFlags: \n", nameof(SmapsDefect.NotAWholeNumber), 2, "99999999999999999999")]
    [InlineData("Rss: 4 kB\n", nameof(SmapsDefect.FieldBeforeHeader), 1, null)]
    [InlineData("1000-2000 rw-p 00000000 00:00 0 \nno colon here\nVmFlags: \n", nameof(SmapsDefect.NoKey), 2, null)]
    public void MalformedTextIsAFormatError(string text, string defect, long line, string? key)
    {
        var e = Assert.Throws<SmapsFormatException>(() => SmapsText.Parse(text));
        Assert.Equal((Enum.Parse<SmapsDefect>(defect), line, key), (e.Defect, e.LineNumber, e.Key));
    }

    [Fact]
    public void ParsesThisProcessesOwnSmaps()
    {
        using var stream = new FileStream("/proc/self/smaps", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
        var parser = new SmapsParser(stream);
        int count = 0;
        long rss = 0;
        while (parser.TryReadEntry(out SmapsEntry entry))
        {
            count++;
            rss += entry.Sizes[(int)SmapsField.Rss];
        }

        Assert.True(count > 10);
        Assert.True(rss > 1 << 20);
        Assert.True(count >= File.ReadAllLines("/proc/self/maps").Length - 5);
    }
}
