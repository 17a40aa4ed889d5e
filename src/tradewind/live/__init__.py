"""Live trading: the TradingNode hosting strategies on a replayed (later: live) feed."""

from tradewind.live.config import NodeConfig, StrategyConfig, VenueConfig, load_node_config
from tradewind.live.node import TradingNode

__all__ = ["NodeConfig", "StrategyConfig", "TradingNode", "VenueConfig", "load_node_config"]
