#:package Selenium.WebDriver
using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

// The dashboard page with many workers and many failures, in headless Chromium: time to render, main-thread busy time
// under live updates, time for a search to answer. Against a running app, e.g. the WebApiSample with 64 workers:
//
//   dotnet samples/WebApiSample/bin/Release/net10.0/WebApiSample.dll --environment Development --urls http://127.0.0.1:5099 \
//     --ProcessPool:Processes=64 --ProcessPool:ChildConcurrency=2 --Demo:Enabled=true
//   seq 0 999 | xargs -P 16 -I{} curl -s -o /dev/null -X POST "http://127.0.0.1:5099/demo/fail?message=failure%20{}"
//   dotnet run bench/dashboard-page/measure.cs -- http://127.0.0.1:5099/processpool/
//
// Figures in docs/performance.md. Needs Debian's chromium and chromium-driver.
var url = args[0];
var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
using var driver = new ChromeDriver(ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver"), options, TimeSpan.FromSeconds(60));
driver.ExecuteCdpCommand("Performance.enable", []);
var clock = Stopwatch.StartNew();
driver.Navigate().GoToUrl(url);
while (driver.FindElements(By.CssSelector("tr[data-worker-id]")).Count < 64 || driver.FindElements(By.CssSelector("#failures li")).Count < 200)
{
    Thread.Sleep(50);
}
Console.WriteLine($"navigation to 64 workers and 200 failures on the page: {clock.ElapsedMilliseconds} ms");
double Metric(string name)
{
    var result = (Dictionary<string, object?>)driver.ExecuteCdpCommand("Performance.getMetrics", [])!;
    foreach (var metric in ((IEnumerable<object?>)result["metrics"]!).OfType<Dictionary<string, object?>>())
    {
        if ((string?)metric["name"] == name)
        {
            return Convert.ToDouble(metric["value"], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    return 0;
}

var (task0, script0, layout0) = (Metric("TaskDuration"), Metric("ScriptDuration"), Metric("LayoutDuration"));
Thread.Sleep(20_000);
var (task1, script1, layout1) = (Metric("TaskDuration"), Metric("ScriptDuration"), Metric("LayoutDuration"));
Console.WriteLine($"over 20 s of live updates: main thread busy {(task1 - task0) / 20 * 100:0.0} % (script {(script1 - script0) / 20 * 100:0.0} %, layout {(layout1 - layout0) / 20 * 100:0.0} %)");
var search = driver.FindElement(By.Id("failure-search"));
clock.Restart();
search.SendKeys("failure 977");
while (driver.FindElements(By.CssSelector("#failures li")).Count != 1) { Thread.Sleep(10); }
Console.WriteLine($"search among the kept failures answered on the page in {clock.ElapsedMilliseconds} ms (incl. 200 ms debounce)");

