// core/ gets its sources with the data pipeline issue.
namespace capfilt::core {}
