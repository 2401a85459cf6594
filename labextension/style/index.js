import './base.css';
import './chatpanel.css';
import './agent.css';
