# The superstore analysis as a person would write it in Jupyter, one step after
# another in the same kernel. `make demo` runs it when no LLM is configured.
import pandas as pd
import matplotlib.pyplot as plt

df = pd.read_csv("superstore.csv")
print(f"{len(df):,} rows, {df.shape[1]} columns")
print(df.iloc[:5, :6])

region_sales = df.groupby("Region")["Sales"].sum().sort_values(ascending=False).round(2)
print("\nTotal sales by region:")
print(region_sales.to_string())

ax = region_sales.plot.bar(title="Total sales by region", ylabel="Sales (USD)", rot=0)
plt.tight_layout()
plt.show()
