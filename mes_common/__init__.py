"""Platform code shared by every MES service: never domain rules."""
import warnings

# eventlet announces its maintenance mode on import; nameko 2.x needs it
warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")
