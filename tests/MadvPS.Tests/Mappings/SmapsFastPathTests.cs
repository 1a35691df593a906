using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The parser's fast path for size lines in the kernel's fixed layout must read exactly what the
/// general path reads, and leave everything else to it.
/// </summary>
public class SmapsFastPathTests
{
    private static Dictionary<string, long> Values() =>
        SmapsText.SizeKeys.Select((key, i) => (key, value: (long)(i * 7919 % 100000) + i)).ToDictionary(p => p.key, p => p.value);

    // The same text with every size written "Key: N kB", which only the general path takes.
    private static string Loose(string text) => Regex.Replace(text, @"(?m)^([A-Za-z_]+):\s+(\d+) kB$", "$1: $2 kB");

    [Fact]
    public void FixedLayoutAndLooseLayoutReadTheSame()
    {
        string text = SmapsText.Entry(0x1000, 0x9000, kb: Values()) + SmapsText.Entry(0x9000, 0xa000) + SmapsText.Entry(0xa000, 0x10a000, kb: new Dictionary<string, long> { ["Rss"] = 99999999 });
        Assert.NotEqual(text, Loose(text));
        var fixedLayout = SmapsText.Parse(text);
        var loose = SmapsText.Parse(Loose(text));
        Assert.Equal(3, fixedLayout.Count);
        for (int i = 0; i < 3; i++)
        {
            foreach (var property in typeof(MadvPS.MemoryMapping).GetProperties())
            {
                Assert.Equal(property.GetValue(loose[i]), property.GetValue(fixedLayout[i]));
            }
        }

        Assert.Equal(99999999L * 1024, fixedLayout[2].Rss);
    }

    [Theory]
    [InlineData("12a4")]  // not a number, in the fixed width
    [InlineData("x   4")] // a stray byte before the value
    [InlineData("")]      // no digits
    public void AFixedWidthLineThatIsNotANumberIsStillMalformed(string value)
    {
        string line = $"{"Rss:",-16}{value,8} kB";
        Assert.Equal(27, line.Length);
        string text = SmapsText.Entry(0x1000, 0x2000);
        string broken = Regex.Replace(text, @"(?m)^Rss:.*$", line);
        Assert.Throws<SmapsFormatException>(() => SmapsText.Parse(broken));
    }

    [Fact]
    public void KeysOutOfTheKernelsOrderAreReadToo()
    {
        string text = SmapsText.Entry(0x1000, 0x2000, kb: Values());
        var lines = text.Split('\n').ToList();
        // Swap Rss and Pss: the fast path expects Rss after MMUPageSize and must hand Pss on.
        int rss = lines.FindIndex(l => l.StartsWith("Rss:"));
        (lines[rss], lines[rss + 1]) = (lines[rss + 1], lines[rss]);
        var m = SmapsText.Parse(string.Join('\n', lines)).Single();
        Assert.Equal(Values()["Rss"] * 1024, m.Rss);
        Assert.Equal(Values()["Pss"] * 1024, m.Pss);
    }
}
