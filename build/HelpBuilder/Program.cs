using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace MadvPS.HelpBuilder;

/// <summary>
/// HelpBuilder DOCS OUT: every cmdlet page of DOCS (front matter with "external help file")
/// into OUT/MODULE.dll-Help.xml, and every about_*.md into OUT/about_*.help.txt.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: HelpBuilder DOCS-FOLDER OUTPUT-FOLDER");
            return 2;
        }

        try
        {
            Build(args[0], args[1]);
            return 0;
        }
        catch (HelpFormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static void Build(string docs, string output)
    {
        Directory.CreateDirectory(output);
        var byHelpFile = new SortedDictionary<string, List<CommandHelp>>(StringComparer.Ordinal);
        var files = Directory.GetFiles(docs, "*.md").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal);
        foreach (string file in files)
        {
            MarkdownPage page = MarkdownPage.Load(file);
            string name = Path.GetFileNameWithoutExtension(file);
            if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
            {
                File.WriteAllText(Path.Combine(output, name + ".help.txt"), AboutWriter.Render(page));
            }
            else if (MarkdownReader.IsCommandPage(page))
            {
                CommandHelp command = MarkdownReader.Read(page);
                if (command.Name != name)
                {
                    throw new HelpFormatException(file, $"describes {command.Name}; name the file {command.Name}.md.");
                }

                string helpFile = page.FrontMatter["external help file"];
                if (!byHelpFile.TryGetValue(helpFile, out List<CommandHelp>? commands))
                {
                    byHelpFile[helpFile] = commands = new List<CommandHelp>();
                }

                commands.Add(command);
            }
        }

        foreach ((string helpFile, List<CommandHelp> commands) in byHelpFile)
        {
            MamlWriter.Write(Path.Combine(output, helpFile), commands);
            Console.WriteLine($"{Path.Combine(output, helpFile)}: {string.Join(", ", commands.Select(c => c.Name))}");
        }
    }
}
