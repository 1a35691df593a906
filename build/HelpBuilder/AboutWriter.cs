using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig.Syntax;

namespace MadvPS.HelpBuilder;

/// <summary>
/// Writes an about_ topic as Get-Help shows it: TOPIC, then each '## ' heading in capitals at the
/// margin, '### ' headings indented two spaces, text wrapped at 80 columns and indented four.
/// </summary>
internal static class AboutWriter
{
    private const int Width = 80;

    public static string Render(MarkdownPage page)
    {
        if (!page.Title.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
        {
            throw new HelpFormatException(page.Path, "is an about topic, so its '# ' heading must be its name, about_Something.");
        }

        if (page.Find("Short description") is null || page.Find("Long description") is null)
        {
            throw new HelpFormatException(page.Path, "needs '## Short description' and '## Long description' sections (Get-Help lists the short one).");
        }

        var text = new StringBuilder();
        text.Append("TOPIC\n    ").Append(page.Title.ToLowerInvariant()).Append("\n\n");
        foreach (Section section in page.Sections)
        {
            text.Append(section.Name.ToUpperInvariant()).Append('\n');
            Blocks(text, page, section.Blocks);
            foreach (Subsection subsection in section.Subsections)
            {
                text.Append("  ").Append(subsection.Name).Append('\n');
                Blocks(text, page, subsection.Blocks);
            }
        }

        return text.ToString().TrimEnd('\n') + "\n";
    }

    private static void Blocks(StringBuilder text, MarkdownPage page, List<Block> blocks)
    {
        foreach (Block block in blocks)
        {
            switch (block)
            {
                case FencedCodeBlock or CodeBlock:
                    foreach (string line in MarkdownText.Code((LeafBlock)block).Split('\n'))
                    {
                        text.Append(line.Length == 0 ? "" : "        " + line).Append('\n');
                    }

                    break;
                case ListBlock list:
                    foreach (string item in MarkdownText.Paragraphs(list, page.Source).SelectMany(p => p.Split('\n')))
                    {
                        // "- text" or "1. text" with its continuation lines indented under the text.
                        int hang = item.StartsWith("- ") ? 2 : item.Length > 0 && char.IsDigit(item[0]) ? item.IndexOf(' ') + 1 : 0;
                        Wrap(text, item, 4, 4 + Math.Max(hang, 0));
                    }

                    break;
                case Markdig.Extensions.Tables.Table:
                    foreach (string line in MarkdownText.Paragraphs(block, page.Source).SelectMany(p => p.Split('\n')))
                    {
                        text.Append("    ").Append(line).Append('\n');
                    }

                    break;
                default:
                    foreach (string paragraph in MarkdownText.Paragraphs(block, page.Source))
                    {
                        foreach (string line in paragraph.Split('\n'))
                        {
                            Wrap(text, line, 4, 4);
                        }
                    }

                    break;
            }

            text.Append('\n');
        }

        if (blocks.Count == 0)
        {
            text.Append('\n');
        }
    }

    private static void Wrap(StringBuilder text, string line, int indent, int hangingIndent)
    {
        int column = 0;
        bool first = true;
        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (column > 0 && column + 1 + word.Length > Width)
            {
                text.Append('\n');
                column = 0;
            }

            if (column == 0)
            {
                int pad = first ? indent : hangingIndent;
                text.Append(' ', pad);
                column = pad;
                first = false;
            }
            else
            {
                text.Append(' ');
                column++;
            }

            text.Append(word);
            column += word.Length;
        }

        text.Append('\n');
    }
}
