using System;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class ProcessStatTests
{
    [Fact]
    public void TheCommandMayHoldSpacesAndParentheses()
    {
        string text = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 100 18446744073709551615";
        ProcessStat stat = ProcessStat.Parse(1234, text);
        Assert.Equal("my (odd) name", stat.Command);
        Assert.Equal('S', stat.State);
        Assert.Equal(987654UL, stat.StartTime);
    }

    [Fact]
    public void ReadsThisProcess()
    {
        ProcessStat? stat = ProcessStat.TryRead(Environment.ProcessId);
        Assert.NotNull(stat);
        Assert.True(stat!.Value.StartTime > 0);
        Assert.Null(ProcessStat.TryRead(int.MaxValue));
    }

    [Fact]
    public void KnowsKernelThreadsAsStatusKthreadSaysAndGivesThemNoRollup()
    {
        // Every process now: the Kthread line of /proc/PID/status (Linux 6.x) is the independent word.
        int checkedKernel = 0, checkedUser = 0;
        foreach (string directory in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(directory), out int id) || ProcessStat.TryRead(id) is not ProcessStat stat)
            {
                continue;
            }

            string? line;
            try
            {
                line = Array.Find(System.IO.File.ReadAllLines($"/proc/{id}/status"), l => l.StartsWith("Kthread:", StringComparison.Ordinal));
            }
            catch (System.IO.IOException)
            {
                continue; // exited in between
            }

            Assert.NotNull(line);
            bool kernel = line!.EndsWith("1", StringComparison.Ordinal);
            Assert.Equal(kernel, stat.IsKernelThread);
            if (kernel)
            {
                Assert.Null(MappingReader.ReadRollup(stat, stat.Command));
                checkedKernel++;
            }
            else
            {
                checkedUser++;
            }
        }

        Assert.True(checkedKernel > 0 && checkedUser > 0);
    }

    [Theory]
    [InlineData("6.18.44-fc-v782", 6, 18, 44)]
    [InlineData("5.10.0-28-amd64", 5, 10, 0)]
    [InlineData("6.1", 6, 1, 0)]
    public void ParsesKernelReleases(string release, int major, int minor, int patch)
    {
        Assert.Equal(new Version(major, minor, patch), KernelInfo.ParseRelease(release));
    }
}
