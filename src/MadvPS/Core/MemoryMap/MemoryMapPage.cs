using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Reflection;
using System.Text;

namespace MadvPS.Core;

/// <summary>
/// Writes the memory map: one HTML file with its style, its script and its data inline, so it
/// opens offline and fetches nothing. The data is JSON in a script element of type
/// application/json (HTML-safe escaped, see <see cref="MemoryMapJson"/>); the script draws SVG from it.
/// </summary>
internal static class MemoryMapPage
{
    private static readonly Lazy<string> s_script = new(() => Resource("MadvPS.MemoryMap.js"));
    private static readonly Lazy<string> s_style = new(() => Resource("MadvPS.MemoryMap.css"));

    public static void Write(Stream stream, string title, DateTime generatedUtc, string version, IReadOnlyList<MapProcess> processes, int maxBlocks = BlockAggregator.MaxBlocks)
    {
        byte[] json = MemoryMapJson.Serialize(title, generatedUtc, version, processes, maxBlocks);
        var text = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        text.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        // Nothing may be fetched: no network, no other file; only the inline style and script run.
        text.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
        text.Write("<meta name=\"generator\" content=\"MadvPS Export-MemoryMap\">\n<title>");
        text.Write(WebUtility.HtmlEncode(MemoryMapJson.Clean(title)));
        text.Write("</title>\n<style>\n");
        text.Write(s_style.Value);
        text.Write("</style>\n</head>\n<body>\n<div id=\"madvps-root\"></div>\n<noscript>This memory map is drawn by its inline script: allow scripts for this file to see it.</noscript>\n");
        text.Write("<script type=\"application/json\" id=\"madvps-data\">");
        text.Flush();
        stream.Write(json);
        text.Write("</script>\n<script>\n");
        text.Write(s_script.Value);
        text.Write("</script>\n</body>\n</html>\n");
        text.Flush();
    }

    private static string Resource(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The module's assembly lacks its resource {name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
